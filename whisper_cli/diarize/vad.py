"""Speech probabilities from faster-whisper's bundled Silero VAD, fed block by block."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
VAD_FRAME = 512  # samples per probability: 32 ms
_CONTEXT = 64  # samples of the previous frame that Silero v6 sees


class SpeechProbs:
    """Silero's speech probability per 32 ms frame of a stream, the model state carried across blocks."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def feed(self, block: np.ndarray) -> np.ndarray:
        """Probabilities of the whole frames completed by ``block`` (float32, one per 512 samples)."""
        audio = np.concatenate((self._rest, np.asarray(block, np.float32)))
        n = audio.size // VAD_FRAME
        self._rest = audio[n * VAD_FRAME :]
        if n == 0:
            return np.zeros(0, np.float32)
        frames = audio[: n * VAD_FRAME].reshape(n, VAD_FRAME)
        context = np.concatenate((self._context[None], frames[:-1, -_CONTEXT:]))
        self._context = frames[-1, -_CONTEXT:].copy()
        batch = np.concatenate((context, frames), axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return np.asarray(out, np.float32).reshape(-1)

    def flush(self) -> np.ndarray:
        """The probability of the last partial frame (zero-padded), if any."""
        if self._rest.size == 0:
            return np.zeros(0, np.float32)
        return self.feed(np.zeros(VAD_FRAME - self._rest.size, np.float32))


def speech_mask(
    probs: np.ndarray, *, on: float = 0.5, off: float = 0.35, min_silence: int = 8, min_speech: int = 4
) -> np.ndarray:
    """Speech (True) per VAD frame: hysteresis between ``on`` and ``off``, then short gaps and blips removed.

    ``min_silence`` and ``min_speech`` are in 32 ms frames (defaults: 256 ms and 128 ms).
    """
    probs = np.asarray(probs, np.float32)
    mask = np.zeros(probs.size, bool)
    active = False
    for i, p in enumerate(probs):
        if p >= on:
            active = True
        elif p < off:
            active = False
        mask[i] = active
    return _drop_short(_drop_short(mask, False, min_silence), True, min_speech)


def _drop_short(mask: np.ndarray, value: bool, shortest: int) -> np.ndarray:
    """``mask`` with interior runs of ``value`` shorter than ``shortest`` flipped."""
    out = mask.copy()
    if out.size == 0:
        return out
    change = np.flatnonzero(np.diff(out.astype(np.int8))) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [out.size]))
    for s, e in zip(starts, ends, strict=True):
        interior = value or (s > 0 and e < out.size)  # silence at the edges is real silence
        if out[s] == value and e - s < shortest and interior:
            out[s:e] = not value
    return out
