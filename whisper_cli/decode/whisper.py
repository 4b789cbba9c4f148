"""``get_whisper``: load a model once, on the device chosen, and return the transcribe function.

faster_whisper and ctranslate2 are imported lazily, so ``whisper-cli --help`` never pays
for them. Which model a name means, and where its files are, is models/resolve.py's job;
the engine adapter is adapter.py; devices and thread counts are hardware.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whisper_cli.core.errors import ModelLoadError, first_line
from whisper_cli.core.transcript import ClipsFn, DecodeOptions, Segment, TranscribeFn, TranscriptInfo
from whisper_cli.decode.adapter import detector, make_transcribe, make_transcribe_clips
from whisper_cli.decode.hardware import default_cpu_threads, resolve_compute_type, resolve_device
from whisper_cli.models.resolve import resolve_model

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


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
    ``clips`` decodes several short recordings together (``--batch-size``, folders);
    ``uncut`` decodes one recording as one part, never cut (a part that a --ray driver cut
    exactly as ``transcribe`` cuts a long recording: cluster/parts.py)."""

    transcribe: TranscribeFn
    clips: ClipsFn
    uncut: TranscribeFn

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
        workers: decoders that run at once: files transcribed in parallel, and the
            parts of a long recording decoded in parallel. The speed changes, never the
            text: where a recording is cut depends on its audio alone.
        download: whether a model that is not on disk may be fetched from the hub.

    Raises:
        ModelLoadError: unknown model, not available offline, or device/compute type unusable.
    """
    spec = ModelSpec(model, device, compute_type, cpu_threads, workers)
    whisper = load_model(spec, download=download)
    from whisper_cli.decode.crossfile import clips_pipeline
    from whisper_cli.decode.guards import guard  # numpy: not at --help time
    from whisper_cli.decode.language import identifier
    from whisper_cli.decode.loudness import levelled
    from whisper_cli.decode.parallel import in_parts

    # Each part is levelled in its own decoder thread, so levelling (a VAD pass) runs in
    # parallel too. Cuts are chosen on the raw audio: the quietest 0.5 s near a split is
    # a pause even next to a quiet speaker, whose speech is still louder than their pauses.
    # Inside the levelling, the guards see (and re-decode) the audio the engine sees.
    # The language is chosen on the speech and, when that is unsure, the whole recording
    # (language.py); an English-only model's is known.
    pipelines: dict[str, Any] = {}
    identify = identifier(detector(whisper)) if whisper.model.is_multilingual else None
    transcribe = levelled(guard(make_transcribe(whisper, pipelines)), identify=identify)
    # Short recordings decoded together; any that fails the engine's own quality checks
    # (its temperature fallback) is decoded again alone, exactly as above.
    clips = clips_pipeline(make_transcribe_clips(whisper, pipelines), transcribe, identify=identify)
    # Long recordings are cut at quiet moments, whatever the worker count (so the text
    # does not depend on it), and up to ``workers`` parts are decoded at once.
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="whisper-cli-part")
    uncut, transcribe = transcribe, in_parts(transcribe, pool)
    if not whisper.model.is_multilingual:
        # The language is known, so the later parts need not wait for the first to find it.
        uncut, transcribe = _in_english(uncut), _in_english(transcribe)
    return Whisper(transcribe, clips, uncut)


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
    from whisper_cli.decode.engine import whisper_model_class

    try:
        return whisper_model_class()(
            str(path),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=workers,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"cannot load the model in {path}: {first_line(exc)}") from exc
