"""Run a batch: decide what is to do from the ledger, have an executor make the transcripts, write them.

The executor is this machine's threads (local.py) or a Ray cluster (cluster/executor.py); deciding,
writing, recording in the ledger and gathering the result are the same for both. Each
input is isolated: a failure is recorded, reported in one line, and the batch goes on.
Ctrl-C, SIGTERM or SIGHUP stops after discarding only the current file's partial
outputs; finished files stay, recorded in the ledger, and a re-run skips them (resume.py
decides which are done). A stdout whose reader went away ends the run the same way, and
so does a model that cannot be loaded: the result records why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from whisper_cli.audio.load import SAMPLE_RATE, STDIN, audio_duration, display_name
from whisper_cli.batch.jobs import BatchResult, Job, Outcome, Status
from whisper_cli.batch.ledger import Entry, Ledgers, record_outputs
from whisper_cli.batch.resume import Decision, decide
from whisper_cli.batch.sinks import AtomicFileSink, StdoutSink, remove_stale_partials, write_error
from whisper_cli.batch.work import Produced
from whisper_cli.console import Reporter
from whisper_cli.core.errors import AudioError, OutputError, WhisperCliError
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo
from whisper_cli.decode.language import SURE
from whisper_cli.writers import WriterOptions, make_writer
from whisper_cli.writers.timestamps import format_timestamp

log = logging.getLogger(__name__)


SKIPPED_BECAUSE = "done: same input and settings"  # the report's reason for a skipped input

# How a run's transcripts are made: given the jobs to do (index, job) and the outcomes by index.
Executor = Callable[[list[tuple[int, Job]], dict[int, Outcome]], None]


class _Stop(Exception):
    """Raised inside a worker when the run is being stopped."""


@dataclass(slots=True)
class Runner:
    """Settings shared by every job of a run."""

    decode: DecodeOptions
    writer_options: WriterOptions
    reporter: Reporter
    workers: int = 1
    overwrite: bool = False
    keys: dict[str, str] = field(default_factory=dict)  # format → the settings' fingerprint
    ledgers: Ledgers = field(default_factory=Ledgers)
    stop: threading.Event = field(default_factory=threading.Event)  # set once the run stops
    print_times: bool = False  # --print-times: each segment on stderr as it is written
    _named: bool = False  # several inputs: a --print-times line names its file
    _decisions: dict[int, Decision] = field(default_factory=dict)

    def execute(self, jobs: list[Job], produce: Executor) -> BatchResult:
        """Decide which jobs to do, have ``produce`` do them (it calls ``deliver`` for each
        input and records the outcome under its index), and gather the result.

        ``produce`` is how transcripts are made: this machine's threads (local.py's
        LocalExecutor) or a Ray cluster (cluster/executor.py); deciding, writing and recording are the
        same for both.
        """
        started = time.monotonic()
        outcomes: dict[int, Outcome] = {}
        result = BatchResult()
        self._named = len(jobs) > 1
        try:  # from the first stat on: a Ctrl-C while checking thousands of outputs still ends cleanly
            todo = self._todo(jobs, outcomes)
            self.reporter.start_batch(len(todo))
            if self.reporter.wants_lengths:  # the lengths stream in: a 10,000-file run starts at once
                threading.Thread(target=_measure, args=(todo, self.reporter, self.stop), daemon=True).start()
            produce(todo, outcomes)
        except KeyboardInterrupt:
            result.interrupted = True
        except BrokenPipeError:  # the reader of the transcript on stdout went away
            result.stopped_by = "stdout closed"
            _stdout_to_devnull()
            for index, outcome in outcomes.items():
                if outcome.status is Status.interrupted:
                    outcomes[index] = replace(
                        outcome, status=Status.failed, error="stdout closed by its reader"
                    )
        except WhisperCliError as exc:  # the model (or the cluster) cannot be had: nothing can be done
            result.fatal, result.stopped_by = exc, getattr(exc, "stopped_by", "model not loaded")
        finally:
            self.stop.set()
        result.wall = time.monotonic() - started
        for index, job in enumerate(jobs):
            result.outcomes.append(outcomes.get(index) or Outcome(job.input, Status.pending))
        return result

    def _todo(self, jobs: list[Job], outcomes: dict[int, Outcome]) -> list[tuple[int, Job]]:
        """The jobs to run; those whose outputs are whisper-cli's, unchanged and current are
        recorded as skipped, those whose outputs cannot be written as failed."""
        reserved = _reserved(jobs)
        todo = []
        cleaned: set[str] = set()
        for index, job in enumerate(jobs):
            if job.targets is None:  # stdout
                todo.append((index, job))
                continue
            decision = decide(
                job.input, job.targets, self.keys, self.ledgers, overwrite=self.overwrite, reserved=reserved
            )
            self._decisions[index] = decision
            for folder in {str(p.parent) for p in decision.targets.values()} - cleaned:
                cleaned.add(folder)  # what killed runs left here: this run writes or checks this folder
                remove_stale_partials(Path(folder))
            if decision.blocked is not None:
                self.reporter.failed(f"{job.input.name}: {decision.blocked}")
                outcomes[index] = Outcome(job.input, Status.failed, error=decision.blocked)
            elif decision.done:
                outcomes[index] = Outcome(
                    job.input, Status.skipped, _names(decision.targets, job), reason=SKIPPED_BECAUSE
                )
            else:
                todo.append((index, job))
        skipped = sum(o.status is Status.skipped for o in outcomes.values())
        if skipped:
            log.info(
                "%d input(s) already transcribed with these settings: skipped (--overwrite redoes them)",
                skipped,
            )
        return todo

    def deliver(self, index: int, job: Job, produce: Callable[[], Produced]) -> Outcome:
        """Write one input's transcript, as ``produce`` gives it (or the error it raises),
        into its outputs and the ledger, with progress; return its outcome."""
        started = time.monotonic()
        key = job.input.source
        try:
            produced = produce()
            info = produced.info
            if self.decode.language is None:
                _say_language(job, info)
            self.reporter.start_file(key, job.input.name, info.duration)
            targets = self._write(index, job, info, produced.segments)
            if job.targets is not None:
                log.info("wrote %s", ", ".join(display_name(name) for name in targets))
            self.reporter.advance(key, info.duration)  # all of it, trailing silence included
        except _Stop:
            return Outcome(job.input, Status.interrupted)
        except WhisperCliError as exc:  # an AudioError or OutputError names its file already
            named = isinstance(exc, (AudioError, OutputError))
            self.reporter.failed(str(exc) if named else f"{job.input.name}: {exc}")
            return Outcome(
                job.input, Status.failed, error=exc.cause if isinstance(exc, AudioError) else str(exc)
            )
        except (BrokenPipeError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug or engine failure costs this file, not the batch
            log.debug("transcribing %s failed", job.input.name, exc_info=True)
            self.reporter.failed(f"{job.input.name}: {type(exc).__name__}: {exc}")
            return Outcome(job.input, Status.failed, error=f"{type(exc).__name__}: {exc}")
        finally:
            self.reporter.end_file(key)
        return Outcome(
            job.input,
            Status.done,
            targets,
            # a streamed input's header may claim more than it holds: count what was decoded
            duration=sum(produced.decoded) / SAMPLE_RATE if produced.decoded else info.duration,
            language=info.language,
            seconds=time.monotonic() - started + produced.seconds,
            reason=self._decisions[index].reason if index in self._decisions else "new",
            node=produced.node,
        )

    def _write(
        self, index: int, job: Job, info: TranscriptInfo, segments: Iterator[Segment]
    ) -> tuple[str, ...]:
        """Stream segments into every format's writer; commit all, or discard all.

        Returns the names written. Each file's ledger line is appended before the files
        are renamed into place, so whatever is on disk under an output's name is either
        proven whisper-cli's or left as it was.
        """
        decision = self._decisions.get(index)
        targets = None if job.targets is None else (decision.targets if decision else job.targets)
        sinks = _sinks(job, targets)
        options = replace(self.writer_options, source=job.input.source)
        try:
            writers = [
                make_writer(fmt, sink.open(), options) for fmt, sink in zip(job.formats, sinks, strict=True)
            ]
            _each(writers, sinks, lambda w: w.start(info))
            for segment in segments:
                if self.stop.is_set():
                    raise _Stop
                _each(writers, sinks, lambda w: w.write(segment))  # noqa: B023
                self.reporter.advance(job.input.source, segment.end)
                if self.print_times:
                    self.reporter.line(_timed(segment, job.input.name if self._named else None))
            _each(writers, sinks, lambda w: w.finish())
            if targets is not None and decision is not None:
                self._record(job, decision, sinks)
            for sink in sinks:
                sink.commit()
        except BaseException:
            for sink in sinks:
                sink.discard()
            raise
        return _names(targets, job)

    def _record(self, job: Job, decision: Decision, sinks: list) -> None:
        """Seal every file and append its ledger line (before any is renamed into place)."""
        for primary, used in decision.moved:
            self.reporter.warning(
                f"{display_name(primary)} was not written by whisper-cli: left as it is; "
                f"the transcript of {job.input.name} goes to {display_name(used)}"
            )
        written = []
        for fmt, sink in zip(job.formats, sinks, strict=True):
            digest, size = sink.seal()
            path = decision.targets[fmt]
            stamp = decision.stamps.get(str(path.parent))
            written.append((path, Entry(path.name, digest, size, stamp, self.keys.get(fmt, ""))))
        try:
            record_outputs(self.ledgers, written)
        except OSError as exc:
            raise write_error(str(written[0][0].parent / ".whisper-cli-ledger.jsonl"), exc) from None


def _say_language(job: Job, info: TranscriptInfo) -> None:
    """The language detected: a warning when the model was unsure of it, else only with -v."""
    if info.language_probability <= SURE:
        log.warning(
            "%s: language detected as %s with %.0f%% confidence; if that is wrong, give it with -l",
            job.input.name,
            info.language,
            100 * info.language_probability,
        )
    else:
        log.info("%s: language %s (%.0f%%)", job.input.name, info.language, 100 * info.language_probability)


def _timed(segment: Segment, name: str | None) -> str:
    """openai-whisper's --verbose line: ``[00:00.000 --> 00:03.720] text``, after the file's name if given."""
    times = f"[{format_timestamp(segment.start)} --> {format_timestamp(segment.end)}]"
    return " ".join(p for p in (name, times, segment.text.strip()) if p)


def _each(writers: list, sinks: list, call: Callable) -> None:
    for writer, sink in zip(writers, sinks, strict=True):
        try:
            call(writer)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(sink.label, exc) from None


def _sinks(job: Job, targets: dict[str, Path] | None) -> list[StdoutSink | AtomicFileSink]:
    if targets is None:
        return [StdoutSink()]
    return [AtomicFileSink(targets[fmt]) for fmt in job.formats]


def _names(targets: dict[str, Path] | None, job: Job) -> tuple[str, ...]:
    if targets is None:
        return ("-",)
    return tuple(str(targets[fmt]) for fmt in job.formats)


def _reserved(jobs: list[Job]) -> set[str]:
    """Absolute paths no output may move to: every input, and every planned output."""
    held = {os.path.abspath(job.input.source) for job in jobs if job.input.source != STDIN}
    for job in jobs:
        held.update(os.path.abspath(p) for p in (job.targets or {}).values())
    return held


def _stdout_to_devnull() -> None:
    """After a broken pipe, point stdout at /dev/null: the last flush cannot fail (Python docs, SIGPIPE)."""
    import sys

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _measure(todo: list[tuple[int, Job]], reporter: Reporter, stop: threading.Event) -> None:
    """Give the reporter each input's length from its header (about 50 µs a WAV, 0.3 ms an MP3)."""
    for _, job in todo:
        if stop.is_set():
            return
        reporter.expect(job.input.source, audio_duration(job.input.source))
