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
        self._rest = audio[n * VAD_FRAME :].copy()  # not a view of the whole block
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


MIN_SILENCE = 8  # VAD frames (256 ms): a shorter pause between speech is speech
MIN_SPEECH = 4  # VAD frames (128 ms): a shorter burst of speech is not speech
ON, OFF = 0.5, 0.35  # hysteresis: speech starts at ON and ends below OFF


class SpeechGate:
    """Speech (True) or not per VAD frame, decided as probabilities stream in.

    Hysteresis between ``ON`` and ``OFF``; then a pause shorter than ``MIN_SILENCE`` between two
    stretches of speech becomes speech (a pause at either end of the stream stays a pause), and a
    stretch shorter than ``MIN_SPEECH`` becomes silence. Decisions lag the input by less than
    ``MIN_SILENCE + MIN_SPEECH`` frames; they do not depend on how the input is split into blocks.
    """

    def __init__(self) -> None:
        self._active = False  # hysteresis state
        self._seen_speech = False  # stage A: a pause before any speech is never filled
        self._pause = 0  # stage A: frames of a pause after speech, not yet decided
        self._long_pause = False  # stage A: the current pause is already known to be a pause
        self._burst = 0  # stage B: frames of speech not yet known to be long enough
        self._kept = False  # stage B: the current stretch of speech is long enough

    def push(self, probs: np.ndarray) -> np.ndarray:
        """Decisions for the frames that became final with ``probs``."""
        out: list[bool] = []
        for p in np.asarray(probs, np.float32).tolist():
            if p >= ON:
                self._active = True
            elif p < OFF:
                self._active = False
            self._fill_gaps(self._active, out)
        return np.array(out, bool)

    def close(self) -> np.ndarray:
        """Decisions for the frames still held back, at the end of the stream."""
        out: list[bool] = []
        for _ in range(self._pause):
            self._drop_bursts(False, out)
        self._pause = 0
        out += [False] * self._burst
        self._burst = 0
        return np.array(out, bool)

    def _fill_gaps(self, speech: bool, out: list[bool]) -> None:
        if speech:
            for _ in range(self._pause):  # a short pause between speech: speech
                self._drop_bursts(True, out)
            self._pause, self._long_pause, self._seen_speech = 0, False, True
            self._drop_bursts(True, out)
        elif not self._seen_speech or self._long_pause:
            self._drop_bursts(False, out)
        else:
            self._pause += 1
            if self._pause >= MIN_SILENCE:
                for _ in range(self._pause):
                    self._drop_bursts(False, out)
                self._pause, self._long_pause = 0, True

    def _drop_bursts(self, speech: bool, out: list[bool]) -> None:
        if speech:
            if self._kept:
                out.append(True)
                return
            self._burst += 1
            if self._burst >= MIN_SPEECH:
                out += [True] * self._burst
                self._burst, self._kept = 0, True
            return
        out += [False] * (self._burst + 1)  # a burst that ended short is silence
        self._burst, self._kept = 0, False


def speech_mask(probs: np.ndarray) -> np.ndarray:
    """Speech (True) per VAD frame of a whole stream of probabilities (see ``SpeechGate``)."""
    gate = SpeechGate()
    return np.concatenate((gate.push(probs), gate.close()))
