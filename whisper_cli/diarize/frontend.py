"""Audio in, embedded 1.6 s windows of speech out: VAD, mel spectra and the voice encoder, streamed."""

from __future__ import annotations

from array import array

import numpy as np

from whisper_cli.diarize.encoder import PARTIAL_FRAMES, embed
from whisper_cli.diarize.mel import HOP, N_FFT, N_MELS, mel_frames
from whisper_cli.diarize.vad import VAD_FRAME, SpeechGate, SpeechProbs

TARGET_DBFS = -30.0  # Resemblyzer's level: quieter windows are raised to it (never lowered)
_BATCH = 48  # windows embedded together


class Frontend:
    """Speech-only mel frames of a 16 kHz stream, cut into windows of 160 frames every ``step`` frames.

    Silence (per Silero VAD) is left out, so every window is all speech; windows of the speech
    timeline are mapped back to recording time through ``runs``. Holds at most a window's worth of
    frames plus one block's; the embeddings it keeps are 512 bytes per window.
    """

    def __init__(self, step: int) -> None:
        self.step = step
        self._vad = SpeechProbs()
        self._gate = SpeechGate()
        self._decided = np.zeros(0, bool)  # VAD decisions from VAD frame _decided_from on
        self._decided_from = 0
        self._audio = np.zeros(N_FFT // 2, np.float32)  # librosa's centring: 200 zeros first
        self._audio_from = -(N_FFT // 2)  # sample index of _audio[0]
        self._mel = np.zeros((0, N_MELS), np.float32)  # frames not yet sorted into speech or not
        self._power = np.zeros(0, np.float32)
        self._mel_from = 0  # frame index of _mel[0] (frame k is centred on sample k * 160)
        self._speech = np.zeros((0, N_MELS), np.float32)  # speech frames from _speech_from on
        self._speech_power = np.zeros(0, np.float32)
        self._speech_from = 0  # position on the speech timeline of _speech[0]
        self.speech_frames = 0  # speech frames so far
        self.runs: list[tuple[int, int, int]] = []  # (speech position, recording frame, length)
        self._next_window = 0  # speech position of the next window
        self._batch: list[np.ndarray] = []
        self.positions = array("l")  # speech position where each window starts
        self._embeddings: list[np.ndarray] = []  # float16 blocks of (windows, 256)
        self.samples = 0

    def feed(self, block: np.ndarray) -> None:
        """Take the next samples of the stream."""
        block = np.asarray(block, np.float32).reshape(-1)
        self.samples += block.size
        self._decide(self._gate.push(self._vad.feed(block)))
        self._audio = np.concatenate((self._audio, block))
        self._frames()

    def finish(self) -> np.ndarray:
        """(windows, 256) float16 embeddings of the whole stream, in the order of ``positions``."""
        self._decide(self._gate.push(self._vad.flush()))
        self._decide(self._gate.close())
        n_vad = len(self._decided) + self._decided_from
        self._decide(np.zeros(max(0, -(-self.samples // VAD_FRAME) - n_vad + 1), bool))
        self._audio = np.concatenate((self._audio, np.zeros(N_FFT // 2, np.float32)))
        self._frames(last=1 + self.samples // HOP)
        end = self.speech_frames
        done = self.positions[-1] + PARTIAL_FRAMES if self.positions else 0
        if end > done:  # the speech after the last whole window, or all of it if shorter than one
            self._cut(max(0, end - PARTIAL_FRAMES), end)
        self._embed()
        if not self._embeddings:
            return np.zeros((0, 256), np.float16)
        points = np.concatenate(self._embeddings)
        self._embeddings = []
        return points

    def _decide(self, decisions: np.ndarray) -> None:
        self._decided = np.concatenate((self._decided, decisions))

    def _frames(self, last: int | None = None) -> None:
        """Compute the mel frames the audio allows, sort the decided ones, cut the windows now full."""
        mel, power = mel_frames(self._audio[(self._mel_from + len(self._mel)) * HOP - self._audio_from :])
        if last is not None:
            keep = max(0, last - self._mel_from - len(self._mel))
            mel, power = mel[:keep], power[:keep]
        self._mel = np.concatenate((self._mel, mel))
        self._power = np.concatenate((self._power, power))
        drop = (self._mel_from + len(self._mel)) * HOP - self._audio_from
        self._audio = self._audio[drop:].copy()  # a copy: a view would keep the whole block alive
        self._audio_from += drop
        # frames whose VAD frame is decided
        vad_index = (np.arange(self._mel_from, self._mel_from + len(self._mel)) * HOP) // VAD_FRAME
        ready = int(np.searchsorted(vad_index, self._decided_from + len(self._decided)))
        if ready:
            speech = self._decided[vad_index[:ready] - self._decided_from]
            self._keep_speech(self._mel[:ready][speech], self._power[:ready][speech], np.flatnonzero(speech))
            self._mel, self._power = self._mel[ready:].copy(), self._power[ready:].copy()
            self._mel_from += ready
            used = (self._mel_from * HOP) // VAD_FRAME - self._decided_from
            self._decided = self._decided[used:]
            self._decided_from += used

    def _keep_speech(self, mel: np.ndarray, power: np.ndarray, where: np.ndarray) -> None:
        if not where.size:
            return
        frames = where + self._mel_from
        breaks = np.flatnonzero(np.diff(frames) > 1) + 1
        for a, b in zip(np.r_[0, breaks], np.r_[breaks, where.size], strict=True):
            pos, frame = self.speech_frames + int(a), int(frames[a])
            last = self.runs[-1] if self.runs else None
            if last is not None and last[0] + last[2] == pos and last[1] + last[2] == frame:
                self.runs[-1] = (last[0], last[1], last[2] + int(b - a))
            else:
                self.runs.append((pos, frame, int(b - a)))
        self.speech_frames += where.size
        self._speech = np.concatenate((self._speech, mel))
        self._speech_power = np.concatenate((self._speech_power, power))
        while self._next_window + PARTIAL_FRAMES <= self.speech_frames:
            self._cut(self._next_window, self._next_window + PARTIAL_FRAMES)
            self._next_window += self.step
        drop = (
            min(self._next_window, self.speech_frames - PARTIAL_FRAMES) - self._speech_from
        )  # keep a window
        if drop > 0:
            self._speech, self._speech_power = self._speech[drop:].copy(), self._speech_power[drop:].copy()
            self._speech_from += drop

    def _cut(self, start: int, end: int) -> None:
        mel = self._speech[start - self._speech_from : end - self._speech_from]
        power = self._speech_power[start - self._speech_from : end - self._speech_from]
        level = 10 * np.log10(max(float(power.mean()), 1e-10))
        gain = 10 ** ((TARGET_DBFS - level) / 10) if level < TARGET_DBFS else 1.0
        window = np.zeros((PARTIAL_FRAMES, N_MELS), np.float32)
        window[: len(mel)] = mel * gain
        self._batch.append(window)
        self.positions.append(start)
        if len(self._batch) >= _BATCH:
            self._embed()

    def _embed(self) -> None:
        if self._batch:
            self._embeddings.append(embed(np.stack(self._batch)).astype(np.float16))
            self._batch = []
