"""``get_whisper``: load a model once, on the device chosen, and return the transcribe function.

This is the only module that imports faster_whisper and ctranslate2, and it does so
lazily, so ``whisper-cli --help`` never pays for them. Which model a name means, and
where its files are, is models.py's job.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whisper_cli.errors import ModelLoadError
from whisper_cli.models import MODEL_SIZES, offline_models, resolve_model
from whisper_cli.thresholds import COMPRESSION_RATIO_THRESHOLD, LOG_PROB_THRESHOLD, NO_SPEECH_THRESHOLD
from whisper_cli.transcript import ClipsFn, DecodeOptions, Segment, TranscribeFn, TranscriptInfo, Word

if TYPE_CHECKING:
    import numpy as np

    from whisper_cli.language import DetectFn

# Public names, with those that moved to models.py and thresholds.py: other modules import them from here.
__all__ = [
    "COMPRESSION_RATIO_THRESHOLD",
    "COMPUTE_TYPES",
    "DEVICES",
    "LOG_PROB_THRESHOLD",
    "MODEL_SIZES",
    "NO_SPEECH_THRESHOLD",
    "ModelSpec",
    "Whisper",
    "cpu_cores",
    "default_cpu_threads",
    "default_workers",
    "get_whisper",
    "load_model",
    "offline_models",
    "resolve_compute_type",
    "resolve_device",
    "resolve_model",
]

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = (
    "default",
    "auto",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Which model to load and where to run it."""

    model: str = "small"  # a size name or a CTranslate2 model folder
    device: str = "auto"
    compute_type: str = "default"
    cpu_threads: int = 0  # 0: chosen for this machine
    workers: int = 1  # decoders that may run at once; 0 in CLI settings: chosen per device


@dataclass(frozen=True, slots=True)
class Whisper:
    """What ``get_whisper`` returns: called as the transcribe function of one recording;
    ``clips`` decodes several short recordings together (``--batch-size``, folders)."""

    transcribe: TranscribeFn
    clips: ClipsFn

    def __call__(self, audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        return self.transcribe(audio, options)


_loaded: dict[tuple[str, str, str, int, int], Any] = {}
_load_lock = threading.Lock()


def get_whisper(
    model: str = "small",
    compute_type: str = "default",
    device: str = "auto",
    cpu_threads: int = 0,
    *,
    workers: int = 1,
    download: bool = True,
) -> Whisper:
    """Load (once per process) the model and return a function that transcribes audio.

    Args:
        model: a size name (tiny … large-v3, turbo) or a CTranslate2 model folder.
        compute_type: int8, float16, …; "default"/"auto" picks the best for the device.
        device: "cpu", "cuda" or "auto".
        cpu_threads: threads per model instance; 0 picks for this machine.
        workers: decoders that run at once: files transcribed in parallel, and long
            recordings cut into that many parts decoded in parallel.
        download: whether a model that is not on disk may be fetched from the hub.

    Raises:
        ModelLoadError: unknown model, not available offline, or device/compute type unusable.
    """
    spec = ModelSpec(model, device, compute_type, cpu_threads, workers)
    whisper = load_model(spec, download=download)
    from whisper_cli.crossfile import clips_pipeline
    from whisper_cli.guards import guard  # numpy: not at --help time
    from whisper_cli.language import identifier
    from whisper_cli.loudness import levelled
    from whisper_cli.parallel import in_parts

    # Each part is levelled in its own decoder thread, so levelling (a VAD pass) runs in
    # parallel too. Cuts are chosen on the raw audio: the quietest 0.5 s near a split is
    # a pause even next to a quiet speaker, whose speech is still louder than their pauses.
    # Inside the levelling, the guards see (and re-decode) the audio the engine sees.
    # The language is chosen on the speech and, when that is unsure, the whole recording
    # (language.py); an English-only model's is known.
    pipelines: dict[str, Any] = {}
    identify = identifier(_detector(whisper)) if whisper.model.is_multilingual else None
    transcribe = levelled(guard(_make_transcribe(whisper, pipelines)), identify=identify)
    # Short recordings decoded together; any that fails the engine's own quality checks
    # (its temperature fallback) is decoded again alone, exactly as above.
    clips = clips_pipeline(_make_transcribe_clips(whisper, pipelines), transcribe, identify=identify)
    if workers > 1:
        # Long recordings are cut at quiet moments and the parts decoded at once.
        pool = ThreadPoolExecutor(workers, thread_name_prefix="whisper-cli-part")
        transcribe = in_parts(transcribe, pool, workers)
    if not whisper.model.is_multilingual:
        # The language is known, so the later parts need not wait for the first to find it.
        transcribe = _in_english(transcribe)
    return Whisper(transcribe, clips)


def _in_english(transcribe: TranscribeFn) -> TranscribeFn:
    """An English-only model's TranscribeFn: the language is English, as the engine would decide."""

    def transcribe_english(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        return transcribe(audio, options if options.language else replace(options, language="en"))

    return transcribe_english


def load_model(spec: ModelSpec, *, download: bool = True) -> Any:
    """The faster_whisper.WhisperModel for ``spec``, loaded at most once per process."""
    device = resolve_device(spec.device)
    compute_type = resolve_compute_type(device, spec.compute_type)
    threads = spec.cpu_threads or default_cpu_threads(spec.workers)
    resolved = resolve_model(spec.model, download=download)
    key = (str(resolved.path), device, compute_type, threads, spec.workers)
    with _load_lock:
        if key not in _loaded:
            log.info(
                "loading model %s (%s) on %s, compute type %s, %d thread(s) x %d worker(s)",
                spec.model,
                resolved.source,
                device,
                compute_type,
                threads,
                spec.workers,
            )
            _loaded[key] = _construct(resolved.path, device, compute_type, threads, spec.workers)
        return _loaded[key]


def _construct(path: Path, device: str, compute_type: str, threads: int, workers: int) -> Any:
    from whisper_cli.engine import whisper_model_class

    try:
        return whisper_model_class()(
            str(path),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=workers,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"cannot load the model in {path}: {_first_line(exc)}") from exc


def resolve_device(device: str) -> str:
    """ "cpu" or "cuda"; "auto" picks CUDA when a GPU is visible to CTranslate2."""
    import ctranslate2

    gpus = ctranslate2.get_cuda_device_count()
    if device == "auto":
        return "cuda" if gpus > 0 else "cpu"
    if device == "cuda" and gpus == 0:
        raise ModelLoadError("--device cuda was asked for, but CTranslate2 sees no CUDA GPU")
    if device not in ("cpu", "cuda"):
        raise ModelLoadError(f"unknown device {device!r}: use cpu, cuda or auto")
    return device


def resolve_compute_type(device: str, compute_type: str) -> str:
    """Check the compute type against what the device supports; pick one for "default"."""
    import ctranslate2

    supported = set(ctranslate2.get_supported_compute_types(device))
    if compute_type in ("default", "auto"):
        # int8 weights: the fastest on CPUs; float16 on GPUs, int8_float16 when it lacks fp16.
        preference = ("float16", "int8_float16", "float32") if device == "cuda" else ("int8", "float32")
        chosen = next(t for t in preference if t in supported)
        log.info("compute type: %s (best supported on %s)", chosen, device)
        return chosen
    if compute_type not in supported:
        raise ModelLoadError(
            f"compute type {compute_type} is not supported on {device}; "
            f"supported: {', '.join(sorted(supported))}"
        )
    return compute_type


def cpu_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers(device: str) -> int:
    """Decoders to run at once when none were asked for.

    CPU: one per core, each with one thread. Sequential beam search keeps little more
    than one core busy, and one CTranslate2 thread per decoder beat two on a 2-core
    machine (README, Performance). CUDA: one; batching is the lever there.
    """
    return 1 if device == "cuda" else max(1, min(4, cpu_cores()))


def default_cpu_threads(workers: int) -> int:
    """Threads per model instance when none were asked for: the cores shared among workers."""
    return max(1, min(8, cpu_cores() // max(1, workers)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _batched(whisper: Any, pipelines: dict[str, Any]) -> Any:
    if "batched" not in pipelines:
        from faster_whisper import BatchedInferencePipeline

        pipelines["batched"] = BatchedInferencePipeline(whisper)
    return pipelines["batched"]


def _make_transcribe(whisper: Any, pipelines: dict[str, Any] | None = None) -> TranscribeFn:
    """Wrap a WhisperModel in our TranscribeFn: our options in, our types out."""
    pipelines = {} if pipelines is None else pipelines

    def transcribe(audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        engine = whisper
        kwargs = _engine_kwargs(options)
        if options.batch_size > 1:
            engine = _batched(whisper, pipelines)
            kwargs["batch_size"] = options.batch_size
        segments, info = engine.transcribe(audio, **kwargs)
        ours = TranscriptInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            duration_after_vad=float(info.duration_after_vad),
        )
        return ours, _convert_segments(segments)

    return transcribe


_SPAN_EPSILON = 1e-6  # s: faster-whisper truncates span * 16000 to int; this keeps it on the sample


def _make_transcribe_clips(whisper: Any, pipelines: dict[str, Any]) -> ClipsFn:
    """The engine's batched decoding of whole short clips, one 30 s window each.

    The clips are laid end to end and each given to faster-whisper's batched pipeline as
    one span (``clip_timestamps``), so up to ``batch_size`` of them share each encoder and
    beam-search call. Clips are grouped by language (detected per clip when not given).
    Single temperature, no VAD: the caller checks and levels (crossfile.py).
    """
    import numpy as np

    from whisper_cli.parallel import SAMPLE_RATE, shift

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
            kwargs = _engine_kwargs(options) | {
                "language": language,
                "vad_filter": False,
                "clip_timestamps": spans,
                "without_timestamps": False,
                "batch_size": max(2, options.batch_size),
            }
            segments, _ = _batched(whisper, pipelines).transcribe(
                np.concatenate([clips[i] for i in members]), **kwargs
            )
            for segment in _convert_segments(segments):
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


def _detector(whisper: Any) -> DetectFn:
    """The engine's language identification on one 30 s window: every language's probability."""

    def detect(audio: np.ndarray) -> dict[str, float]:
        _, _, probabilities = whisper.detect_language(audio=audio)
        return {language: float(p) for language, p in probabilities}

    return detect


def _engine_kwargs(options: DecodeOptions) -> dict[str, Any]:
    return {
        "language": options.language,
        "task": options.task.value,
        "beam_size": options.beam_size,
        "temperature": list(options.temperature),
        "initial_prompt": options.initial_prompt,
        "vad_filter": options.vad,
        "word_timestamps": options.word_timestamps,
        "condition_on_previous_text": options.condition_on_previous_text,
        "no_speech_threshold": NO_SPEECH_THRESHOLD,
        "log_prob_threshold": LOG_PROB_THRESHOLD,
        "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
        "max_new_tokens": options.max_new_tokens,
    }


def _convert_segments(segments: Any) -> Iterator[Segment]:
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
