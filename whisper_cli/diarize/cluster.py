"""Speakers from voice embeddings: average-linkage clustering on cosine distance, count found or given."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.turns import SpeakerCount

THRESHOLD = 0.35  # cosine distance: clusters further apart than this are different speakers
MIN_SHARE = 0.06  # a cluster with less than this share of the windows is not a speaker of its own
MAX_ITEMS = 600  # at most this many windows are clustered; the rest join the nearest centroid


def merges(points: np.ndarray) -> list[tuple[int, int, float]]:
    """Average-linkage merges of L2-normalised ``points``: (kept, absorbed, distance), closest first."""
    n = len(points)
    dist = 1.0 - points @ points.T
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    alive = np.ones(n, bool)
    out: list[tuple[int, int, float]] = []
    for _ in range(n - 1):
        flat = int(np.argmin(dist))
        i, j = divmod(flat, n)
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


def speakers(points: np.ndarray, count: SpeakerCount, *, threshold: float | None = None) -> np.ndarray:
    """A speaker label per embedding; labels are 0..k-1.

    Average linkage on cosine distance over at most ``MAX_ITEMS`` evenly spaced embeddings; the
    count is the number of clusters left below ``threshold`` that hold at least ``MIN_SHARE`` of
    them, unless ``count`` fixes or bounds it. Small clusters fold into the nearest large one;
    then every embedding goes to its nearest centroid (twice, updating the centroids).
    """
    n = len(points)
    if n == 0:
        return np.zeros(0, int)
    threshold = THRESHOLD if threshold is None else threshold
    pick = np.unique(np.linspace(0, n - 1, min(n, MAX_ITEMS)).round().astype(int))
    sample = points[pick]
    m = len(sample)
    history = merges(sample)
    big = max(2, int(np.ceil(MIN_SHARE * m)))
    lo, hi = count.bounds(m)
    if count.exact is None:
        found = m - sum(1 for *_, d in history if d <= threshold)
        sizes = np.bincount(cut(m, history, found))
        k = min(max(int(np.sum(sizes >= big)), lo), hi)
    else:
        k = lo
    labels = _fold(sample, history, k, big)
    cents = centroids(sample, labels, k)
    for _ in range(2):
        full = np.argmax(points @ cents.T, axis=1)
        cents = centroids(points, full, k)
    return np.argmax(points @ cents.T, axis=1)


def _fold(sample: np.ndarray, history: list[tuple[int, int, float]], k: int, big: int) -> np.ndarray:
    """``k`` labels: the finest cut with ``k`` large clusters, the small ones joined to the nearest."""
    m = len(sample)
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
