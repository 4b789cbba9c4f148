"""Speaker turns of a two-channel call: each channel is one speaker, no model needed."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.turns import Turn, fill_short, labels_to_turns
from whisper_cli.diarize.vad import SAMPLE_RATE, VAD_FRAME, SpeechProbs, speech_mask

_FRAME_S = VAD_FRAME / SAMPLE_RATE  # 32 ms
_SMOOTH = 5  # frames of power averaged before comparing the channels (160 ms)
_SHORTEST = 8  # frames: a speaker run shorter than 256 ms joins its neighbours


def channel_turns(left: np.ndarray, right: np.ndarray) -> list[Turn]:
    """Turns of a stereo call at 16 kHz: speaker 0 where the left channel carries the speech, 1 the right.

    The speaker number is the channel (0 = left), also when the right channel speaks first.

    Speech is where Silero VAD hears it on either channel; each speech frame goes to the channel
    with more power there (so cross-talk bleed, quieter than the talker's own channel, is not a
    turn); silence gets no turn.
    """
    left = np.asarray(left, np.float32).reshape(-1)
    right = np.asarray(right, np.float32).reshape(-1)
    if left.size != right.size:
        raise ValueError(f"the channels differ in length: {left.size} and {right.size} samples")
    n = left.size // VAD_FRAME + (left.size % VAD_FRAME > 0)
    if n == 0:
        return []
    speech = np.zeros(n, bool)
    for channel in (left, right):
        vad = SpeechProbs()
        probs = np.concatenate((vad.feed(channel), vad.flush()))
        speech |= speech_mask(probs)
    power = np.stack([_frame_power(c, n) for c in (left, right)])
    kernel = np.ones(_SMOOTH, np.float32) / _SMOOTH
    power = np.stack([np.convolve(p, kernel, mode="same") for p in power])
    labels = np.where(speech, np.argmax(power, axis=0), -1)
    labels = fill_short(labels, _SHORTEST)
    turns = labels_to_turns(labels, _FRAME_S, renumber=False)
    end = left.size / SAMPLE_RATE
    return [Turn(t.start, min(t.end, end), t.speaker) for t in turns if min(t.end, end) > t.start]


def _frame_power(channel: np.ndarray, n: int) -> np.ndarray:
    """Mean power of each 512-sample frame (the last one zero-padded)."""
    padded = np.zeros(n * VAD_FRAME, np.float32)
    padded[: channel.size] = channel
    frames = padded.reshape(n, VAD_FRAME)
    return np.einsum("ij,ij->i", frames, frames) / VAD_FRAME
