"""Who spoke when in one recording: speech found by VAD, voices embedded, embeddings clustered."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.cluster import centroids, speakers
from whisper_cli.diarize.encoder import PARTIAL_FRAMES, session
from whisper_cli.diarize.frontend import Frontend
from whisper_cli.diarize.mel import HOP, SAMPLE_RATE
from whisper_cli.diarize.turns import SpeakerCount, Turn, fill_short

__all__ = ["Diarizer", "SpeakerCount", "Turn", "diarize"]

STEP = 75  # frames (0.75 s) between the starts of embedded windows on the speech timeline
BLOCK = 10  # frames (0.1 s): the resolution of the labels
SHORTEST = 4  # blocks: a speaker run shorter than 0.4 s inside speech joins its neighbours
_FRAME_S = HOP / SAMPLE_RATE
ANY_COUNT = SpeakerCount()  # the count is found


class Diarizer:
    """Speaker turns of one recording, fed block by block (never holds the whole audio)."""

    def __init__(self, count: SpeakerCount = ANY_COUNT) -> None:
        session()  # the weights and the ONNX graph: built once per process, cached
        self.count = count
        self._front = Frontend(STEP)

    def feed(self, block: np.ndarray) -> None:
        """Take the next block: consecutive 16 kHz mono float32 samples, any length."""
        self._front.feed(block)

    def finish(self) -> list[Turn]:
        """The turns: sorted, non-overlapping, speakers numbered by first appearance; none in silence.

        Call it once, after the last ``feed``.
        """
        front = self._front
        points = front.finish()
        if not len(points):
            return []
        labels = speakers(points, self.count)
        k = int(labels.max()) + 1
        cents = centroids(points, labels, k)
        scores = np.concatenate(
            [points[i : i + 4096].astype(np.float32) @ cents.T for i in range(0, len(points), 4096)]
        )
        del points
        blocks = _block_labels(scores, np.array(front.positions), front.speech_frames)
        return _turns(blocks, front.runs)


def diarize(audio: np.ndarray, count: SpeakerCount = ANY_COUNT) -> list[Turn]:
    """Speaker turns of a whole 16 kHz mono recording."""
    diarizer = Diarizer(count)
    audio = np.asarray(audio, np.float32).reshape(-1)
    for start in range(0, audio.size, SAMPLE_RATE * 30):
        diarizer.feed(audio[start : start + SAMPLE_RATE * 30])
    return diarizer.finish()


def _block_labels(scores: np.ndarray, positions: np.ndarray, frames: int) -> np.ndarray:
    """The speaker of each 0.1 s block of the speech timeline: best mean score of the windows over it."""
    n = -(-frames // BLOCK)
    k = scores.shape[1]
    total = np.zeros((n + 1, k), np.float32)
    cover = np.zeros(n + 1, np.float32)
    first = positions // BLOCK
    last = np.minimum(-(-(positions + PARTIAL_FRAMES) // BLOCK), n)
    np.add.at(total, first, scores)
    np.add.at(total, last, -scores)
    np.add.at(cover, first, 1)
    np.add.at(cover, last, -1)
    np.cumsum(total, axis=0, out=total)  # in place: this is the largest array of a long recording
    np.cumsum(cover, out=cover)
    total /= np.maximum(cover, 1)[:, None]
    return fill_short(np.argmax(total[:n], axis=1), SHORTEST)


def _turns(blocks: np.ndarray, runs: list[tuple[int, int, int]]) -> list[Turn]:
    """Turns in recording time from block labels on the speech timeline and its runs of speech."""
    pieces: list[tuple[int, int, int]] = []  # (first frame, end frame, label) in recording frames
    for pos, frame, length in runs:
        labels = blocks[np.arange(pos, pos + length) // BLOCK]
        change = np.flatnonzero(np.diff(labels)) + 1
        for a, b in zip(np.r_[0, change], np.r_[change, length], strict=True):
            lab = int(labels[a])
            if pieces and pieces[-1][2] == lab and pieces[-1][1] == frame + a:
                pieces[-1] = (pieces[-1][0], frame + int(b), lab)
            else:
                pieces.append((frame + int(a), frame + int(b), lab))
    order: dict[int, int] = {}
    return [
        Turn(round(a * _FRAME_S, 3), round(b * _FRAME_S, 3), order.setdefault(lab, len(order)))
        for a, b, lab in pieces
    ]
