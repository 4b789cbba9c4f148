"""--ray: a long recording cut by the driver into the parts one machine decodes, spread over the actors.

One machine cuts a recording of a minute or more at quiet moments into parts of about
40 s (decode/parallel.py; one over 30 minutes is first streamed in chunks of about ten
minutes, decode/chunked.py, each cut so) and decodes each part on its own. Here the
driver reads the recording and makes the same cuts; each part's samples go through
Ray's object store to whichever actor has room, as a call of its own among the other
files' calls, so the nodes need not see the file. Parts are made as actors take them:
the driver holds the recording (or one chunk of it) once, the object store only the
parts in flight. When every part is back, their segments are retimed and renumbered as
one machine joins them, and the runner writes the recording once. A part whose node is
lost is sent again; a part that fails fails its recording, once.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np

from whisper_cli.audio.load import audio_duration, iter_audio
from whisper_cli.batch.jobs import Job, Outcome, Status
from whisper_cli.batch.runner import Runner
from whisper_cli.batch.work import LongAudio, Produced, read_input
from whisper_cli.cluster.worker import PartDone
from whisper_cli.core.errors import AudioError, WhisperCliError
from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.decode.chunked import CHUNK_SECONDS, chunks
from whisper_cli.decode.parallel import MIN_PART_SECONDS, SAMPLE_RATE, part_count, part_spans, shift
from whisper_cli.models.resolve import MODEL_SIZES

LONG_ENOUGH = 2 * MIN_PART_SECONDS  # shorter recordings are one part on one machine: sent whole


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A stretch of the recording cut into parts as one: all of it, or a streamed chunk."""

    offset: int  # samples from the recording's start
    length: int
    parts: int


@dataclass(eq=False, slots=True)
class Part:
    """One part sent in a call of its own: where it lies, and its samples in the object store."""

    cut: Cut
    number: int
    chunk: _Chunk
    offset: int  # samples from its chunk's start
    length: int
    samples: Any  # an ObjectRef, held until the part is back (sent again if its node is lost)
    attempts: int = 0  # how often its worker died
    group: tuple[tuple[int, Job], ...] = ()  # no whole input: its recording's outcome is its Cut's

    def send(self, actor: Any) -> Any:
        """Call ``actor`` on this part; the call's reference."""
        return actor.part.remote(self.samples, self.cut.language)


class Cut:
    """One long recording: its parts made as actors take them, their transcripts gathered, written once."""

    def __init__(
        self, ray: ModuleType, runner: Runner, index: int, job: Job, outcomes: dict, gated: bool
    ) -> None:
        self.ray, self.runner, self.index, self.job, self.outcomes = ray, runner, index, job, outcomes
        self.gated = gated  # the later parts wait for the language the first one finds
        self.language: str | None = None  # what the later parts are told (None: as the options say)
        self.parts: list[Part] = []
        self.chunks: list[_Chunk] = []
        self.done: dict[int, PartDone] = {}
        self.decoded: list[int] = []  # a streamed recording's blocks, as one machine counts them
        self.streamed = False
        self.duration = 0.0
        self.exhausted = False  # every part made (or none will be)
        self.failed = False
        self.written = False
        self._pieces = self._cut()

    def next_part(self) -> Part | None:
        """The next part to send; None when there is none (now, or at all: ``exhausted``)."""
        if self.failed or self.exhausted or (self.gated and self.parts and 0 not in self.done):
            return None
        try:
            part = next(self._pieces, None)
        except AudioError as exc:
            self.fail(exc)
            return None
        except Exception as exc:  # an unexpected decoder bug fails this file only
            name = self.job.input.name
            self.fail(AudioError(name, f"cannot decode audio ({type(exc).__name__}: {exc})"))
            return None
        if part is None:
            self.exhausted = True
            self._finish()
        return part

    def returned(self, part: Part, done: PartDone) -> None:
        """``part`` came back: kept until every part has, then the recording is written."""
        if self.failed or self.written:
            return
        if done.error is not None or done.info is None:
            self.fail(WhisperCliError(done.error or "no transcript came back"))
            return
        self.done[part.number] = done
        part.samples = None  # its samples may leave the object store
        if part.number == 0 and self.gated:
            self.language = done.info.language
        seconds = sum(p.length for p in self.parts if p.number in self.done) / SAMPLE_RATE
        self.runner.reporter.advance(self.job.input.source, seconds)
        self._finish()

    def fail(self, error: WhisperCliError) -> None:
        """The recording fails (once); its parts still out are dropped as they come back."""
        if self.failed or self.written:
            return
        self.failed = True
        for part in self.parts:
            part.samples = None
        self._pieces.close()
        produce = functools.partial(_raise, error)
        self.outcomes[self.index] = self.runner.deliver(self.index, self.job, produce)

    def _cut(self) -> Iterator[Part]:
        source = self.job.input.source
        audio = read_input(source)
        if isinstance(audio, LongAudio):  # over 30 minutes: in chunks, as one machine streams it
            self.streamed, self.duration = True, audio.duration
            stream = chunks(_counted(iter_audio(source), self.decoded), int(CHUNK_SECONDS * SAMPLE_RATE))
        else:
            self.duration = len(audio) / SAMPLE_RATE
            stream = iter([(0, audio)])
        del audio
        self.outcomes[self.index] = Outcome(self.job.input, Status.interrupted)
        self.runner.reporter.start_file(source, self.job.input.name, self.duration)
        for offset, samples in stream:
            spans = part_spans(samples)
            chunk = _Chunk(offset, len(samples), len(spans))
            self.chunks.append(chunk)
            for start, end in spans:
                stored = self.ray.put(samples[start:end])
                self.parts.append(Part(self, len(self.parts), chunk, start, end - start, stored))
                yield self.parts[-1]
            del samples
        if not self.chunks:  # a stream with no chunk: one machine decodes nothing, as one part
            self.streamed = False
            self.chunks.append(_Chunk(0, 0, 1))
            self.parts.append(Part(self, 0, self.chunks[0], 0, 0, self.ray.put(np.zeros(0, np.float32))))
            yield self.parts[-1]

    def _finish(self) -> None:
        if self.failed or self.written or not self.exhausted or len(self.done) < len(self.parts):
            return
        self.written = True
        info, segments = self._merged()
        nodes = ", ".join(dict.fromkeys(self.done[p.number].node for p in self.parts))
        seconds = sum(done.seconds for done in self.done.values())  # the actors' time on it, as for a file
        produced = Produced(info, iter(segments), self.decoded, seconds, nodes)
        self.outcomes[self.index] = self.runner.deliver(self.index, self.job, lambda: produced)

    def _merged(self) -> tuple[TranscriptInfo, list[Segment]]:
        """The parts' transcripts joined as one machine joins them: in each chunk as
        decode/parallel.py's in_parts does, then the chunks as decode/chunked.py does."""
        info: TranscriptInfo | None = None
        segments: list[Segment] = []
        for number, chunk in enumerate(self.chunks):
            chunk_info, chunk_segments = self._joined(chunk)
            if not self.streamed:
                return chunk_info, chunk_segments
            if number == 0:
                duration = max(self.duration, chunk_info.duration)
                info = replace(chunk_info, duration=duration, duration_after_vad=None)
                for segment in chunk_segments:
                    segments.append(replace(segment, id=len(segments)))
            else:
                for segment in chunk_segments:
                    seconds, frames = chunk.offset / SAMPLE_RATE, chunk.offset // 160
                    segments.append(shift(segment, seconds, len(segments), frames))
        assert info is not None
        return info, segments

    def _joined(self, chunk: _Chunk) -> tuple[TranscriptInfo, list[Segment]]:
        parts = [self.done[p.number] for p in self.parts if p.chunk is chunk]
        offsets = [p.offset for p in self.parts if p.chunk is chunk]
        first = parts[0].info
        assert first is not None
        if chunk.parts == 1:
            return first, list(parts[0].segments)
        segments: list[Segment] = []
        for done, offset in zip(parts, offsets, strict=True):
            for segment in done.segments:  # seek: 10 ms frames
                segments.append(shift(segment, offset / SAMPLE_RATE, len(segments), offset // 160))
        return replace(first, duration=chunk.length / SAMPLE_RATE, duration_after_vad=None), segments


class Cutter:
    """Which inputs of a --ray run are cut into parts (those a minute long or more), and how."""

    def __init__(self, ray: ModuleType, runner: Runner, outcomes: dict, model: str) -> None:
        self.ray, self.runner, self.outcomes = ray, runner, outcomes
        # An English-only model is told English; otherwise, unless -l says, the first
        # part finds the language that the later parts are told (as in_parts does).
        self.gated = runner.decode.language is None and not english_only(model)

    @staticmethod
    def applies(runner: Runner) -> bool:
        """Whether recordings are cut here: not with --batch-size (one machine does not cut
        them either), nor with --diarize (a recording's speakers are found over all of it)."""
        return runner.diarize is None and runner.decode.batch_size <= 1

    def cut(self, task: Any) -> Cut | None:
        """A Cut for ``task`` if it is one recording long enough to cut (by its header)."""
        if len(task.group) != 1:
            return None
        index, job = task.group[0]
        duration = audio_duration(job.input.source)
        if duration is None or duration < LONG_ENOUGH:
            return None
        return Cut(self.ray, self.runner, index, job, self.outcomes, self.gated)


def calls(runner: Runner, todo: list[tuple[int, Job]], enough: int = 4096) -> int:
    """How many calls ``todo`` makes: a file each (or a --batch-size group), the parts of a
    recording that is cut (by its header); counted exactly up to ``enough``, which is more
    than any cluster's actors, so a folder's headers are not read here."""
    files = -(-len(todo) // max(1, runner.decode.batch_size))
    if files >= enough or not Cutter.applies(runner):
        return files
    total = 0
    for _, job in todo:
        duration = audio_duration(job.input.source)
        long = duration is not None and duration >= LONG_ENOUGH
        total += part_count(int(duration * SAMPLE_RATE)) if long else 1
    return total


def take(waiting: deque[Any], cutter: Cutter | None) -> Any | None:
    """The next call to make from ``waiting``, in input order: a file, or the next part of a
    recording being cut (a Cut stays in place until all its parts are made). A recording
    whose later parts wait for its first part's language lets the calls behind it go
    first. None: nothing can be sent now."""
    position = 0
    while position < len(waiting):
        item = waiting[position]
        if isinstance(item, Part):
            del waiting[position]
            if item.cut.failed:
                continue
            return item
        if not isinstance(item, Cut):
            cut = cutter.cut(item) if cutter is not None else None
            if cut is None:
                del waiting[position]
                return item
            waiting[position] = item = cut
        part = item.next_part()
        if item.exhausted or item.failed:
            del waiting[position]
        elif part is None:
            position += 1
        if part is not None:
            return part
    return None


def english_only(model: str) -> bool:
    """Whether ``model`` names an English-only model size (a folder: not known here)."""
    return model in MODEL_SIZES and model.endswith(".en")


def _counted(blocks: Iterator[np.ndarray], lengths: list[int]) -> Iterator[np.ndarray]:
    for block in blocks:
        lengths.append(len(block))
        yield block


def _raise(error: WhisperCliError) -> Produced:
    raise error
