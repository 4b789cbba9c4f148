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

import bisect
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo, retimed
from whisper_cli.decode.language import WINDOW, IdentifyFn

SAMPLE_RATE = 16_000
TARGET_DBFS = -23.0
MAX_GAIN_DB = 40.0
PEAK_LIMIT = 0.89  # -1 dBFS
# A region this close to the target is left as it is. Whisper was trained on speech at
# many levels, so a gain of a few dB helps nothing and only moves the features' last
# bits, which moves a short clip's words by chance. Chosen on bench_language.py's 86
# items with base (0, 3 and 6 dB tried): at 0 dB zh's CER was 1.7 points over the
# engine's (two characters in 116), at 3 dB no language was more than 0.9 over; at 6 dB
# ja lost 3.7 points (README, Languages).
TOLERANCE_DB = 3.0
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
    if abs(gain_db) <= TOLERANCE_DB:
        return 1.0
    return float(10 ** (gain_db / 20))


def level(audio: np.ndarray, regions: list[tuple[int, int]] | None = None) -> np.ndarray:
    """A levelled copy of ``audio`` (16 kHz mono float32); the input is not modified."""
    regions = speech_regions(audio) if regions is None else regions
    out = audio.copy()
    for start, end in regions:
        if end - start < 2 * _FRAME:
            continue
        gain = region_gain(audio[start:end])
        if gain == 1.0:  # near the target already: left as it is
            continue
        envelope = np.full(end - start, gain, np.float32)
        ramp = min(_RAMP, (end - start) // 2)
        envelope[:ramp] = np.linspace(1.0, gain, ramp, dtype=np.float32)
        envelope[-ramp:] = np.linspace(gain, 1.0, ramp, dtype=np.float32)
        out[start:end] *= envelope
    return out


# faster-whisper's VAD filter (VadOptions defaults): speech ends after 2 s of silence and
# keeps 0.4 s of padding. The regions above carry 0.1 s of padding already.
VAD_MIN_SILENCE = int(2.0 * SAMPLE_RATE)
VAD_PAD = int(0.4 * SAMPLE_RATE)
_REGION_PAD = int(0.1 * SAMPLE_RATE)


def speech_chunks(regions: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The spans faster-whisper's VAD filter would keep, from ``speech_regions``' finer ones:
    regions less than 2 s apart joined, 0.4 s of padding around each span."""
    chunks: list[tuple[int, int]] = []
    extra = VAD_PAD - _REGION_PAD
    for start, end in regions:
        start, end = max(0, start - extra), min(length, end + extra)
        if chunks and start - chunks[-1][1] < VAD_MIN_SILENCE - 2 * VAD_PAD:
            chunks[-1] = (chunks[-1][0], max(end, chunks[-1][1]))
        else:
            chunks.append((start, end))
    return chunks


class Timeline:
    """Maps times in the speech-only audio (the chunks laid end to end) back to the recording."""

    def __init__(self, chunks: list[tuple[int, int]]) -> None:
        self._starts = [start / SAMPLE_RATE for start, _ in chunks]
        self._joined = [0.0]
        for start, end in chunks:
            self._joined.append(self._joined[-1] + (end - start) / SAMPLE_RATE)

    def original(self, t: float, *, end: bool = False) -> float:
        """The recording's time for ``t`` s into the speech-only audio; an ``end`` time on a
        chunk border stays at the end of the chunk before it."""
        if not self._starts:
            return t
        k = (bisect.bisect_left if end else bisect.bisect_right)(self._joined, t) - 1
        k = min(max(k, 0), len(self._starts) - 1)
        return self._starts[k] + t - self._joined[k]

    def segment(self, segment: Segment) -> Segment:
        """The segment (and its words) in the recording's time."""
        moved = retimed(
            segment,
            self.original,
            lambda t: self.original(t, end=True),
            seek=round(self.original(segment.seek / 100) * 100),
        )
        return replace(moved, end=max(moved.start, moved.end))


def levelled(transcribe: TranscribeFn, *, identify: IdentifyFn | None = None) -> TranscribeFn:
    """A TranscribeFn that levels the audio first when ``options.level`` is set, and with
    ``options.vad`` decodes only the speech: the one VAD pass serves both (faster-whisper's
    own filter would be a second one, 4 % of the work on ../shared/eval's long file).

    With ``identify`` and no language given, the language is chosen here, where both the
    speech and the whole recording are at hand (language.py), not by the engine on the
    speech alone.
    """

    def transcribe_levelled(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        if not (options.level or options.vad):
            return transcribe(audio, options)
        regions = speech_regions(audio)
        if options.level:
            audio = level(audio, regions)
        if not options.vad:
            return transcribe(audio, options)
        chunks = speech_chunks(regions, len(audio))
        batched = options.batch_size > 1  # batched decoding chunks by its own VAD: 30 s are enough
        speech = joined(audio, chunks, limit=WINDOW if batched else None)
        probability = None
        if identify is not None and options.language is None and len(speech):
            language, probability = identify(speech, audio)
            options = replace(options, language=language)
        if batched:
            info, segments = transcribe(audio, options)
        else:
            info, segments = _speech_only(transcribe, speech, chunks, len(audio), options)
        if probability is not None:
            info = replace(info, language_probability=probability)
        return info, segments

    return transcribe_levelled


def joined(audio: np.ndarray, chunks: list[tuple[int, int]], *, limit: int | None = None) -> np.ndarray:
    """The ``chunks`` of ``audio`` laid end to end; only the first ``limit`` samples when given."""
    parts, total = [], 0
    for start, end in chunks:
        if limit is not None and total >= limit:
            break
        parts.append(audio[start:end])
        total += end - start
    return np.concatenate(parts)[:limit] if parts else audio[:0]


def _speech_only(
    transcribe: TranscribeFn,
    speech: np.ndarray,
    chunks: list[tuple[int, int]],
    length: int,
    options: DecodeOptions,
) -> tuple[TranscriptInfo, Iterator[Segment]]:
    """Decode ``speech`` (the ``chunks`` of a recording of ``length`` samples, laid end to end)
    with the segments moved back to the recording's time."""
    info, segments = transcribe(speech, replace(options, vad=False))
    timeline = Timeline(chunks)
    info = replace(info, duration=length / SAMPLE_RATE, duration_after_vad=len(speech) / SAMPLE_RATE)
    return info, (timeline.segment(s) for s in segments)
