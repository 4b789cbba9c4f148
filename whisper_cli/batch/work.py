"""One input's work wherever it runs (this machine's threads, a Ray worker): read it, start its transcript."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from whisper_cli.audio.load import audio_duration, iter_audio, load_audio
from whisper_cli.core.transcript import DecodeOptions, DiarizeOptions, Segment, TranscribeFn, TranscriptInfo
from whisper_cli.decode.chunked import LONG_SECONDS, transcribe_chunks

if TYPE_CHECKING:
    from whisper_cli.diarize.labels import Labeller


@dataclass(frozen=True, slots=True)
class LongAudio:
    """An input too long to hold whole: decoded block by block while it is transcribed."""

    source: str
    duration: float  # as the file's header announces it


def read_input(source: str) -> np.ndarray | LongAudio:
    """The whole input, or a LongAudio for recordings over LONG_SECONDS (bounded memory)."""
    duration = audio_duration(source)
    if duration is not None and duration > LONG_SECONDS:
        return LongAudio(source, duration)
    return load_audio(source)


@dataclass(frozen=True, slots=True)
class Produced:
    """One input's transcript as an executor hands it to ``Runner.deliver``.

    ``decoded`` fills with the sample counts read as ``segments`` is consumed (a streamed
    input), ``speakers`` with the labels of its non-blank segments (--diarize);
    ``seconds`` is wall time spent on it elsewhere (on a Ray worker), ``node`` where.
    """

    info: TranscriptInfo
    segments: Iterator[Segment]
    decoded: list[int] = field(default_factory=list)
    seconds: float = 0.0
    node: str | None = None
    speakers: set[str] | None = None  # --diarize: the labels written, filled as ``segments`` is consumed


def labeller(
    audio: np.ndarray | LongAudio, diarize: DiarizeOptions | None, source: str, name: str
) -> Labeller | None:
    """Start finding one input's speakers (--diarize; None without), in a thread of their own,
    before its transcript starts: a recording held whole is diarized from memory, a long one
    is read again block by block, and channels are read from the file."""
    if diarize is None:
        return None
    from whisper_cli.diarize.labels import Labeller

    return Labeller(diarize, None if isinstance(audio, LongAudio) else audio, source, name)


def transcribed(
    audio: np.ndarray | LongAudio,
    transcribe: TranscribeFn,
    options: DecodeOptions,
    labels: Labeller | None = None,
) -> Produced:
    """Start transcribing one input read by ``read_input``; its segments come as they are
    decoded, labelled by ``labels`` (from ``labeller``) when speakers are asked for."""
    decoded: list[int] = []
    if isinstance(audio, LongAudio):
        blocks = _counted(iter_audio(audio.source), decoded)
        info, segments = transcribe_chunks(transcribe, blocks, options, audio.duration)
    else:
        info, segments = transcribe(audio, options)
    if labels is None:
        return Produced(info, segments, decoded)
    return Produced(info, labels.label(segments), decoded, speakers=labels.seen)


def _counted(blocks: Iterator[np.ndarray], lengths: list[int]) -> Iterator[np.ndarray]:
    """The blocks, each one's length appended to ``lengths`` as it passes."""
    for block in blocks:
        lengths.append(len(block))
        yield block
