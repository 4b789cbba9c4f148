"""The Ray actor of a --ray run: loads the model once, transcribes files read by path or sent to it."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass, replace

import numpy as np

from whisper_cli.batch.work import LongAudio, labeller, read_input, transcribed
from whisper_cli.cluster.transfer import Source, as_sent, readable, sweep
from whisper_cli.core.errors import AudioError, ModelLoadError
from whisper_cli.core.malloc import keep_large_buffers
from whisper_cli.core.transcript import DecodeOptions, DiarizeOptions, Segment, TranscriptInfo
from whisper_cli.decode.crossfile import fits
from whisper_cli.decode.whisper import ModelSpec, Whisper, get_whisper

log = logging.getLogger(__name__)

Audio = np.ndarray | LongAudio | AudioError
Decoded = tuple[TranscriptInfo, list[Segment]]


@dataclass(frozen=True, slots=True)
class Done:
    """One input's result as a worker sends it back: its whole transcript, or why it failed.

    Exceptions are sent as text: AudioError does not survive pickling, and the driver
    names the input as the user wrote it, not by the absolute path the worker opened.
    """

    node: str
    info: TranscriptInfo | None = None
    segments: tuple[Segment, ...] = ()
    samples: int = 0  # samples decoded from a streamed (long) input; 0: the header's length holds
    seconds: float = 0.0  # wall time the worker spent on it
    audio_error: str | None = None  # the cause, when the input cannot be read or decoded
    error: str | None = None  # any other failure, "Type: message"
    unseen: bool = False  # this node does not have the driver's file at its path: send it (transfer.py)


@dataclass(frozen=True, slots=True)
class PartDone:
    """One part of a long recording as a worker sends it back (cluster/parts.py): its
    segments, timed from the part's start, or why it failed."""

    node: str
    info: TranscriptInfo | None = None
    segments: tuple[Segment, ...] = ()
    seconds: float = 0.0  # wall time the worker spent on it
    error: str | None = None  # "Type: message"


def node_name() -> str:
    """This node for the report: host name and the start of Ray's node id (nodes may share a host)."""
    import ray  # only ever called inside a Ray worker

    return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:8]}"


class Worker:
    """One decoder on one node (rayexec wraps it with ``ray.remote``): files one call at a time."""

    def __init__(self, spec: ModelSpec, decode: DecodeOptions, diarize: DiarizeOptions | None = None) -> None:
        self._spec = spec
        self._decode = decode
        self._diarize = diarize
        self._whisper: Whisper | None = None
        self._node = node_name()

    def load(self) -> tuple[str, str | None]:
        """Load the model: (this node, why it cannot be loaded, or None)."""
        keep_large_buffers()  # as the CLI does on one machine (core/malloc.py)
        sweep()  # inputs sent to workers of this node that were killed before they removed them
        spec = self._spec
        try:
            self._whisper = get_whisper(
                spec.model, spec.compute_type, spec.device, spec.cpu_threads, workers=spec.workers
            )
        except ModelLoadError as exc:
            return self._node, str(exc)
        return self._node, None

    def run(self, sources: list[str | Source]) -> list[Done]:
        """Transcribe ``sources`` (absolute paths, or Sources: read by path or sent) in order; with
        --batch-size, the short ones together, as the local runner batches them."""
        started = time.monotonic()
        with contextlib.ExitStack() as held:  # the copies of inputs sent, removed at the end
            paths = [held.enter_context(readable(source)) for source in sources]
            audios = [_read(path) if path else AudioError("", "unseen") for path in paths]
            batched = self._together(audios)
            results = []
            for i, (audio, path) in enumerate(zip(audios, paths, strict=True)):
                done = self._one(audio, batched.get(i), path) if path else Done(self._node, unseen=True)
                results.append(_named(done, path, sources[i]))
        if batched:  # the batch's own time, shared among its clips
            share = (time.monotonic() - started - sum(r.seconds for r in results)) / len(audios)
            results = [replace(r, seconds=r.seconds + share) for r in results]
        return results

    def part(self, samples: np.ndarray, language: str | None) -> PartDone:
        """Transcribe one part of a long recording, cut by the driver where one machine cuts
        it, as one machine decodes each part (``Whisper.uncut``); ``language``: the one the
        recording's first part found (None: as the options say)."""
        began = time.monotonic()
        if self._whisper is None:
            return PartDone(self._node, error="the model was not loaded")
        options = self._decode if language is None else replace(self._decode, language=language)
        try:  # a copy: an array from the object store is read-only
            info, segments = self._whisper.uncut(np.array(samples, dtype=np.float32), options)
            done = tuple(segments)
        except Exception as exc:  # a bug or engine failure costs this recording, not the actor
            log.debug("transcribing a part failed", exc_info=True)
            return PartDone(self._node, error=f"{type(exc).__name__}: {exc}")
        return PartDone(self._node, info, done, time.monotonic() - began)

    def _together(self, audios: list[Audio]) -> dict[int, Decoded]:
        """Short clips decoded in one batch, by position; none when batching is off or fails."""
        short = [i for i, audio in enumerate(audios) if fits(audio)]
        if self._whisper is None or self._decode.batch_size <= 1 or len(short) < 2:
            return {}
        try:
            decoded = list(self._whisper.clips([audios[i] for i in short], self._decode))  # type: ignore[misc]
        except Exception as exc:  # the engine failed on the batch: each clip gets its own try
            log.debug("a batch of %d clips failed: %s", len(short), exc, exc_info=True)
            return {}
        return dict(zip(short, decoded, strict=True))

    def _one(self, audio: Audio, result: Decoded | None, source: str) -> Done:
        began = time.monotonic()
        if isinstance(audio, AudioError):
            return Done(self._node, audio_error=audio.cause)
        if self._whisper is None:
            return Done(self._node, error="the model was not loaded")
        try:
            labels = labeller(audio, self._diarize, source, os.path.basename(source))
            if result is not None:
                info, segments = result[0], tuple(result[1] if labels is None else labels.label(result[1]))
                samples = 0
            else:
                produced = transcribed(audio, self._whisper, self._decode, labels)
                info, segments = produced.info, tuple(produced.segments)
                samples = sum(produced.decoded)
        except AudioError as exc:  # a streamed input that breaks off
            return Done(self._node, audio_error=exc.cause)
        except Exception as exc:  # a bug or engine failure costs this file, not the batch
            log.debug("transcribing failed", exc_info=True)
            return Done(self._node, error=f"{type(exc).__name__}: {exc}")
        return Done(self._node, info, segments, samples, time.monotonic() - began)


def _named(done: Done, path: str | None, source: str | Source) -> Done:
    """``done`` with its messages naming the driver's path, not the temporary copy read here."""
    if done.audio_error is None and done.error is None:
        return done
    audio_error = done.audio_error and as_sent(done.audio_error, path, source)
    return replace(done, audio_error=audio_error, error=done.error and as_sent(done.error, path, source))


def _read(source: str) -> Audio:
    """The input, or the AudioError that reading it gave (as the local runner's decoder thread does)."""
    try:
        return read_input(source)
    except AudioError as exc:
        return exc
    except Exception as exc:  # an unexpected decoder bug fails this file only
        return AudioError(os.path.basename(source), f"cannot decode audio ({type(exc).__name__}: {exc})")
