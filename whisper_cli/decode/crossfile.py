"""Short recordings decoded together: with ``--batch-size N``, the clips of a folder share
the engine's batches, N at a time, instead of each being a batch of its own.

A clip no longer than one 30 s window is decoded in one step by sequential decoding
too, so batching whole clips changes what the model sees in one way only: batched
decoding has no temperature fallback. So each clip's result is checked as
faster-whisper checks a window (compression ratio, mean log-probability, no-speech
probability), and a clip that would have fallen back, or that repeats itself, is
decoded again alone by the full sequential pipeline. Each clip is first levelled and
trimmed to its speech (the VAD) as it would be alone; a clip with no speech at all is
left to the sequential pipeline, which skips it.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from whisper_cli.core.transcript import ClipsFn, DecodeOptions, Segment, TranscribeFn, TranscriptInfo, retimed
from whisper_cli.decode.guards import drop_phantoms, repeated_ngram
from whisper_cli.decode.language import IdentifyFn
from whisper_cli.decode.loudness import level, speech_regions
from whisper_cli.decode.parallel import SAMPLE_RATE, shift
from whisper_cli.decode.thresholds import falls_back, silent

MAX_CLIP_SECONDS = 30.0  # one window: longer recordings are decoded alone
PAD = int(0.4 * SAMPLE_RATE)  # kept around the speech, as faster-whisper's VAD does


def fits(audio: object) -> bool:
    """Whether ``audio`` (decoded input) is short enough to share a batch."""
    return isinstance(audio, np.ndarray) and 0 < len(audio) <= MAX_CLIP_SECONDS * SAMPLE_RATE


def clips_pipeline(engine: ClipsFn, alone: TranscribeFn, *, identify: IdentifyFn | None = None) -> ClipsFn:
    """A ClipsFn that levels and trims each clip, decodes them together with ``engine``,
    and hands to ``alone`` (the whole sequential pipeline) every clip the batch cannot do
    as well: no speech found, a window faster-whisper would decode again at a higher
    temperature, or a repetition loop. With ``identify`` and no language given, each
    clip's language is chosen as ``alone`` would choose it (language.py)."""

    def transcribe_clips(
        clips: list[np.ndarray], options: DecodeOptions
    ) -> list[tuple[TranscriptInfo, list[Segment]]]:
        sequential = replace(options, batch_size=0)  # what a clip redone alone gets
        prepared = {i: p for i, clip in enumerate(clips) if (p := _prepare(clip, options)) is not None}
        decoded = _together(engine, prepared, options, identify)
        results: list[tuple[TranscriptInfo, list[Segment]]] = []
        for i, clip in enumerate(clips):
            found, trimmed = decoded.get(i), prepared.get(i)
            if found is None or trimmed is None or _redo(found[1], options):
                info, stream = alone(clip, sequential)
                results.append((info, list(stream)))
                continue
            kept = [] if _silent(found[1], options) else list(drop_phantoms(found[1]))
            start, duration = trimmed.start / SAMPLE_RATE, len(clip) / SAMPLE_RATE
            shifted = [_within(shift(s, start, k, 0), duration) for k, s in enumerate(kept)]
            results.append((replace(found[0], duration=duration), shifted))
        return results

    return transcribe_clips


class _Prepared(NamedTuple):
    whole: np.ndarray  # the clip, levelled when asked for
    start: int  # the speech, with PAD either side: whole[start:end]
    end: int

    @property
    def speech(self) -> np.ndarray:
        return self.whole[self.start : self.end]


def _prepare(clip: np.ndarray, options: DecodeOptions) -> _Prepared | None:
    """The clip levelled, and where its speech starts and ends; None when the VAD finds no speech."""
    regions = speech_regions(clip) if options.vad or options.level else []
    if options.vad and not regions:
        return None
    audio = level(clip, regions) if options.level else clip
    if not options.vad:
        return _Prepared(audio, 0, len(audio))
    return _Prepared(audio, max(0, regions[0][0] - PAD), min(len(clip), regions[-1][1] + PAD))


def _together(
    engine: ClipsFn, prepared: dict[int, _Prepared], options: DecodeOptions, identify: IdentifyFn | None
) -> dict[int, tuple[TranscriptInfo, list[Segment]]]:
    """The prepared clips' speech decoded by ``engine``, one call per language when it is chosen here."""
    if identify is None or options.language is not None:
        together = engine([p.speech for p in prepared.values()], options) if prepared else []
        return dict(zip(prepared, together, strict=True))
    chosen = {i: identify(p.speech, p.whole) for i, p in prepared.items()}
    decoded = {}
    for language in dict.fromkeys(lang for lang, _ in chosen.values()):
        members = [i for i, (lang, _) in chosen.items() if lang == language]
        found = engine([prepared[i].speech for i in members], replace(options, language=language))
        for i, (info, segments) in zip(members, found, strict=True):
            decoded[i] = (replace(info, language_probability=chosen[i][1]), segments)
    return decoded


def _within(segment: Segment, duration: float) -> Segment:
    """The segment with its times (rounded by the engine on the joined clips) inside the clip."""

    return retimed(segment, lambda t: min(max(t, 0.0), duration))


def _silent(segments: list[Segment], options: DecodeOptions) -> bool:
    """faster-whisper skips a window the model calls non-speech with low confidence in its text."""
    return bool(segments) and silent(
        segments[0].avg_logprob, segments[0].no_speech_prob, options.no_speech_threshold
    )


def _redo(segments: list[Segment], options: DecodeOptions) -> bool:
    """Whether sequential decoding would not have kept this result as it is."""
    if not segments or _silent(segments, options):
        return False
    text = "".join(s.text for s in segments)
    data = text.encode("utf-8")
    compression = len(data) / len(zlib.compress(data))
    return falls_back(segments[0].avg_logprob, compression) or any(repeated_ngram(s.text) for s in segments)
