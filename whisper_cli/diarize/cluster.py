"""Speakers from voice embeddings: spectral clustering of their cosine affinities, count found or given."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.turns import SpeakerCount

PRUNE = 0.3  # each embedding keeps its affinity to this share of the others (its nearest), the rest 0
THRESHOLD = 0.35  # cosine distance (average linkage): clusters further apart are different speakers
MIN_SHARE = 0.06  # a cluster with less than this share of the embeddings is not a speaker of its own
EIGENGAP = 0.4  # a gap this wide in the Laplacian's spectrum decides the count (else average linkage)
MAX_SPEAKERS = 10  # the most speakers the spectrum is searched for
MAX_ITEMS = 400  # at most this many embeddings are clustered; the rest join the nearest centroid
REFINE = 10  # rounds of k-means after the clustering
METHOD = "best"  # "best" of the two by silhouette, or only "spectral" or "linkage" (benchmark variants)


def merges(points: np.ndarray) -> list[tuple[int, int, float]]:
    """Average-linkage merges of L2-normalised ``points``: (kept, absorbed, distance), closest first."""
    n = len(points)
    dist = 1.0 - points @ points.T
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    alive = np.ones(n, bool)
    out: list[tuple[int, int, float]] = []
    for _ in range(n - 1):
        i, j = divmod(int(np.argmin(dist)), n)
        d = float(dist[i, j])
        i, j = min(i, j), max(i, j)
        row = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        row[i] = np.inf
        row[~alive] = np.inf
        dist[i], dist[:, i] = row, row
        dist[j], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        alive[j] = False
        out.append((i, j, d))
    return out


def cut(n: int, history: list[tuple[int, int, float]], clusters: int) -> np.ndarray:
    """Labels 0..clusters-1 of ``n`` points after all but the last ``clusters - 1`` merges."""
    parent = np.arange(n)
    for i, j, _ in history[: max(0, n - clusters)]:
        parent[parent == j] = i
    _, labels = np.unique(parent, return_inverse=True)
    return labels


def centroids(points: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """L2-normalised mean of each cluster (zero for an empty one)."""
    sums = np.zeros((k, points.shape[1]), np.float64)
    np.add.at(sums, labels, points)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def spectrum(points: np.ndarray, prune: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the normalised Laplacian of the pruned affinity.

    The affinity is the cosine similarity; each row keeps its ``prune`` share of largest values
    (so a speaker's windows link to each other, not to everything), then it is made symmetric.
    """
    n = len(points)
    affinity = np.clip(points @ points.T, 0.0, None).astype(np.float32)
    np.fill_diagonal(affinity, 0.0)
    keep = min(n - 1, max(2, int(np.ceil((PRUNE if prune is None else prune) * n))))
    floor = np.sort(affinity, axis=1)[:, -keep][:, None]
    affinity = np.where(affinity >= floor, affinity, 0.0)
    affinity = (affinity + affinity.T) / 2
    degree = np.maximum(affinity.sum(axis=1), 1e-12)
    scale = 1.0 / np.sqrt(degree)
    laplacian = np.eye(n, dtype=np.float32) - scale[:, None] * affinity * scale[None, :]
    return np.linalg.eigh(laplacian)


def nearest(points: np.ndarray, cents: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the most similar centroid for each point (float16 or float32), a chunk at a time."""
    return np.concatenate(
        [
            np.argmax(points[i : i + chunk].astype(np.float32) @ cents.T, axis=1)
            for i in range(0, len(points), chunk)
        ]
        or [np.zeros(0, int)]
    )


def speakers(points: np.ndarray, count: SpeakerCount) -> np.ndarray:
    """A speaker label (0..k-1) per L2-normalised embedding (float16 or float32).

    Over at most ``MAX_ITEMS`` evenly spaced embeddings; the count is found by ``_count`` unless
    ``count`` fixes it. Two labellings are made, and the one with the better silhouette kept:
    spectral clustering (the rows of the Laplacian's first k eigenvectors clustered by average
    linkage, then k-means) and average linkage of the embeddings themselves (then k-means).
    The embeddings left out go to the nearest centroid.
    """
    n = len(points)
    if n == 0:
        return np.zeros(0, int)
    pick = np.unique(np.linspace(0, n - 1, min(n, MAX_ITEMS)).round().astype(int))
    sample = points[pick].astype(np.float32)
    m = len(sample)
    lo, hi = count.bounds(m)
    if m < 3 or hi == 1:
        return np.zeros(n, int)
    values, vectors = spectrum(sample)
    k = lo if count.exact is not None else _count(sample, values, lo, hi)
    if k == 1:
        return np.zeros(n, int)
    rows = (vectors[:, :k] / np.maximum(np.linalg.norm(vectors[:, :k], axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )
    spectral = _kmeans(rows, cut(m, merges(rows), k), k) if METHOD != "linkage" else None
    linkage = _kmeans(sample, _fold(sample, merges(sample), k), k) if METHOD != "spectral" else None
    if spectral is None or linkage is None:
        labels = spectral if linkage is None else linkage
    else:
        labels = spectral if silhouette(sample, spectral) > silhouette(sample, linkage) else linkage
    full = nearest(points, centroids(sample, labels, k))
    full[pick] = labels
    return full


def _count(sample: np.ndarray, values: np.ndarray, lo: int, hi: int) -> int:
    """Speakers found, from ``lo`` to ``hi``: where the Laplacian's eigenvalues (``values``, ascending)
    jump by ``EIGENGAP`` or more, the count below the widest jump (with 20 embeddings or more);
    else the average-linkage clusters below ``THRESHOLD`` holding ``MIN_SHARE`` of them or more."""
    m = len(sample)
    top = min(hi, MAX_SPEAKERS, m - 1)
    if m >= 20 and top >= lo:
        gaps = np.diff(values[: top + 1])  # gaps[i]: the jump after i + 1 clusters
        best = lo - 1 + int(np.argmax(gaps[lo - 1 : top]))
        if gaps[best] >= EIGENGAP:
            return best + 1
    history = merges(sample)
    sizes = np.bincount(cut(m, history, m - sum(1 for *_, d in history if d <= THRESHOLD)))
    found = max(1, int(np.sum(sizes >= max(2, np.ceil(MIN_SHARE * m)))))
    return min(max(found, lo), hi)


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of a labelling under cosine distance (-1..1; higher is better separated)."""
    ks = np.unique(labels)
    if ks.size < 2:
        return -1.0
    dist = 1.0 - points @ points.T
    mean = np.stack([dist[:, labels == c].mean(axis=1) for c in ks], axis=1)  # (n, k)
    own = np.searchsorted(ks, labels)
    sizes = np.bincount(own)
    a = mean[np.arange(len(points)), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)  # without itself
    mean[np.arange(len(points)), own] = np.inf
    b = mean.min(axis=1)
    return float(np.mean((b - a) / np.maximum(np.maximum(a, b), 1e-12)))


def _fold(sample: np.ndarray, history: list[tuple[int, int, float]], k: int) -> np.ndarray:
    """``k`` labels: the finest cut with ``k`` large clusters, the small ones joined to the nearest."""
    m = len(sample)
    big = max(2, int(np.ceil(MIN_SHARE * m)))
    for level in range(k, min(m, k + 30) + 1):
        labels = cut(m, history, level)
        sizes = np.bincount(labels, minlength=level)
        if np.sum(sizes >= big) >= k or level == min(m, k + 30):
            keep = np.argsort(-sizes, kind="stable")[:k]
            cents = centroids(sample, labels, level)[keep]
            rank = {int(c): r for r, c in enumerate(keep)}
            nearest = np.argmax(sample @ cents.T, axis=1)
            return np.array([rank.get(int(c), int(nearest[i])) for i, c in enumerate(labels)])
    return cut(m, history, k)


def _kmeans(points: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Spherical k-means from ``labels``, stopping early rather than emptying a cluster."""
    for _ in range(REFINE):
        again = np.argmax(points @ centroids(points, labels, k).T, axis=1)
        if np.unique(again).size < np.unique(labels).size or (again == labels).all():
            break
        labels = again
    return labels
