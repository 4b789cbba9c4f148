"""The engine adapter: faster-whisper's WhisperModel behind our TranscribeFn, our options in, our types out.

The only code that calls the engine's transcribe and detect_language; faster_whisper
itself is imported lazily, so ``whisper-cli --help`` never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from whisper_cli.core.transcript import ClipsFn, DecodeOptions, Segment, TranscribeFn, TranscriptInfo, Word
from whisper_cli.decode.thresholds import COMPRESSION_RATIO_THRESHOLD, LOG_PROB_THRESHOLD

WINDOW_SAMPLES = 30 * 16_000  # the model's window

if TYPE_CHECKING:
    import numpy as np

    from whisper_cli.decode.language import DetectFn


def batched(whisper: Any, pipelines: dict[str, Any]) -> Any:
    if "batched" not in pipelines:
        from faster_whisper import BatchedInferencePipeline

        pipelines["batched"] = BatchedInferencePipeline(whisper)
    return pipelines["batched"]


def make_transcribe(whisper: Any, pipelines: dict[str, Any] | None = None) -> TranscribeFn:
    """Wrap a WhisperModel in our TranscribeFn: our options in, our types out."""
    pipelines = {} if pipelines is None else pipelines

    def transcribe(audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        engine = whisper
        kwargs = engine_kwargs(options)
        if options.batch_size > 1:
            engine = batched(whisper, pipelines)
            kwargs["batch_size"] = options.batch_size
        one = options.one_window and len(audio) <= WINDOW_SAMPLES and options.batch_size <= 1
        if one:
            kwargs["without_timestamps"] = True
        segments, info = engine.transcribe(audio, **kwargs)  # one pass: engine.py ends the window there
        ours = TranscriptInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            duration_after_vad=float(info.duration_after_vad),
        )
        return ours, convert_segments(segments)

    return transcribe


_SPAN_EPSILON = 1e-6  # s: faster-whisper truncates span * 16000 to int; this keeps it on the sample


def make_transcribe_clips(whisper: Any, pipelines: dict[str, Any]) -> ClipsFn:
    """The engine's batched decoding of whole short clips, one 30 s window each.

    The clips are laid end to end and each given to faster-whisper's batched pipeline as
    one span (``clip_timestamps``), so up to ``batch_size`` of them share each encoder and
    beam-search call. Clips are grouped by language (detected per clip when not given).
    Single temperature, no VAD: the caller checks and levels (crossfile.py).
    """
    import numpy as np

    from whisper_cli.decode.parallel import SAMPLE_RATE, shift

    def transcribe_clips(
        clips: list[np.ndarray], options: DecodeOptions
    ) -> list[tuple[TranscriptInfo, list[Segment]]]:
        languages = [_clip_language(whisper, clip, options) for clip in clips]
        found: dict[int, list[Segment]] = {i: [] for i in range(len(clips))}
        for language in dict.fromkeys(lang for lang, _ in languages):
            members = [i for i, (lang, _) in enumerate(languages) if lang == language]
            offsets = np.cumsum([0, *(len(clips[i]) for i in members)])
            spans = [
                {
                    "start": offsets[k] / SAMPLE_RATE + _SPAN_EPSILON,
                    "end": offsets[k + 1] / SAMPLE_RATE + _SPAN_EPSILON,
                }
                for k in range(len(members))
            ]
            kwargs = engine_kwargs(options) | {
                "language": language,
                "vad_filter": False,
                "clip_timestamps": spans,
                "without_timestamps": False,
                "batch_size": max(2, options.batch_size),
            }
            segments, _ = batched(whisper, pipelines).transcribe(
                np.concatenate([clips[i] for i in members]), **kwargs
            )
            for segment in convert_segments(segments):
                # a segment's seek is its span's start, in 10 ms frames (rounded down)
                k = int(np.searchsorted(offsets, (segment.seek + 1) * 160, side="right")) - 1
                mine = found[members[k]]
                mine.append(shift(segment, -int(offsets[k]) / SAMPLE_RATE, len(mine), -segment.seek))
        return [
            (TranscriptInfo(lang, prob, len(clip) / SAMPLE_RATE, len(clip) / SAMPLE_RATE), found[i])
            for i, (clip, (lang, prob)) in enumerate(zip(clips, languages, strict=True))
        ]

    return transcribe_clips


def _clip_language(whisper: Any, clip: np.ndarray, options: DecodeOptions) -> tuple[str, float]:
    if options.language:
        return options.language, 1.0
    if not whisper.model.is_multilingual:
        return "en", 1.0
    language, probability, _ = whisper.detect_language(audio=clip)
    return language, float(probability)


def detector(whisper: Any) -> DetectFn:
    """The engine's language identification on one 30 s window: every language's probability."""

    def detect(audio: np.ndarray) -> dict[str, float]:
        _, _, probabilities = whisper.detect_language(audio=audio)
        return {language: float(p) for language, p in probabilities}

    return detect


def engine_kwargs(options: DecodeOptions) -> dict[str, Any]:
    """faster-whisper's transcribe arguments for ``options`` (the sequential, batched and clips paths)."""
    return {
        "language": options.language,
        "task": options.task.value,
        "beam_size": options.beam_size,
        "temperature": list(options.temperature),
        "initial_prompt": options.initial_prompt,
        "vad_filter": options.vad,
        "word_timestamps": options.word_timestamps,
        "condition_on_previous_text": options.condition_on_previous_text,
        "no_speech_threshold": options.no_speech_threshold,
        "log_prob_threshold": LOG_PROB_THRESHOLD,
        "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
        "max_new_tokens": options.max_new_tokens,
        "best_of": options.best_of,
        "patience": options.patience,
        "length_penalty": options.length_penalty,
        "hotwords": options.hotwords,
        "hallucination_silence_threshold": options.hallucination_silence_threshold,
        "suppress_tokens": list(options.suppress_tokens),
    }


def convert_segments(segments: Any) -> Iterator[Segment]:
    for index, seg in enumerate(segments):
        words = None
        if seg.words is not None:
            words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in seg.words)
        yield Segment(
            id=index,
            start=float(seg.start),
            end=float(seg.end),
            text=seg.text,
            seek=int(seg.seek),
            tokens=tuple(seg.tokens),
            temperature=float(seg.temperature or 0.0),
            avg_logprob=float(seg.avg_logprob),
            compression_ratio=float(seg.compression_ratio),
            no_speech_prob=float(seg.no_speech_prob),
            words=words,
        )
