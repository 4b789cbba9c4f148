"""Loudness levelling: bring every stretch of speech to the same level before decoding.

Whisper drops speech that is much quieter than its neighbours in the same 30 s window:
on ../shared/eval's long-form file (utterances whose levels differ by up to 45 dB),
tiny.en's WER is 28 % as recorded and 5 % on the level-matched copy, almost all of
the difference being deleted utterances. So each speech region found by the VAD
(Silero, split at pauses of 250 ms) gets one static gain that brings its active level
to -23 dBFS (EBU R 128's target), limited to +40 dB and to a -1 dBFS peak, with 50 ms
ramps at its edges. Non-speech is left as it is, so noise is never made loud.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from whisper_cli.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo

SAMPLE_RATE = 16_000
TARGET_DBFS = -23.0
MAX_GAIN_DB = 40.0
PEAK_LIMIT = 0.89  # -1 dBFS
MIN_PAUSE_MS = 250  # a pause this long separates two regions that may get different gains
_FRAME = 320  # 20 ms
_RAMP = 800  # 50 ms


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample spans of speech, split at short pauses."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_PAUSE_MS, speech_pad_ms=100)
    return [(r["start"], r["end"]) for r in get_speech_timestamps(audio, options)]


def active_level_db(region: np.ndarray) -> float:
    """RMS level in dBFS of the louder half of the region's 20 ms frames."""
    frames = len(region) // _FRAME
    if frames == 0:
        return -120.0
    rms = np.sqrt(np.mean(np.square(region[: frames * _FRAME].reshape(frames, _FRAME)), axis=1))
    louder = np.sort(rms)[frames // 2 :]
    return float(20 * np.log10(np.sqrt(np.mean(np.square(louder))) + 1e-9))


def region_gain(region: np.ndarray) -> float:
    """The linear gain that levels one region, within the gain and peak limits."""
    peak = float(np.max(np.abs(region))) + 1e-9
    gain_db = min(TARGET_DBFS - active_level_db(region), MAX_GAIN_DB, 20 * np.log10(PEAK_LIMIT / peak))
    return float(10 ** (gain_db / 20))


def level(audio: np.ndarray, regions: list[tuple[int, int]] | None = None) -> np.ndarray:
    """A levelled copy of ``audio`` (16 kHz mono float32); the input is not modified."""
    regions = speech_regions(audio) if regions is None else regions
    out = audio.copy()
    for start, end in regions:
        if end - start < 2 * _FRAME:
            continue
        gain = region_gain(audio[start:end])
        envelope = np.full(end - start, gain, np.float32)
        ramp = min(_RAMP, (end - start) // 2)
        envelope[:ramp] = np.linspace(1.0, gain, ramp, dtype=np.float32)
        envelope[-ramp:] = np.linspace(gain, 1.0, ramp, dtype=np.float32)
        out[start:end] *= envelope
    return out


def levelled(transcribe: TranscribeFn) -> TranscribeFn:
    """A TranscribeFn that levels the audio first when ``options.level`` is set."""

    def transcribe_levelled(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        return transcribe(level(audio) if options.level else audio, options)

    return transcribe_levelled
