"""One run of the transcribe command: inputs → jobs → runner → summary, report, exit code."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from whisper_cli.audio import STDIN, display_name
from whisper_cli.console import Reporter
from whisper_cli.errors import ExitCode, UsageError
from whisper_cli.inputs import Collection, Input, collect_inputs, plan_outputs, read_file_list
from whisper_cli.malloc import keep_large_buffers
from whisper_cli.model import ModelSpec, default_workers, get_whisper, resolve_device
from whisper_cli.report import print_summary, report_document, write_report
from whisper_cli.runner import BatchResult, Job, Outcome, Runner, Status
from whisper_cli.settings import RunSettings
from whisper_cli.transcript import TranscribeFn

log = logging.getLogger(__name__)


def run_session(settings: RunSettings) -> int:
    """Transcribe everything the settings name; return the exit code."""
    collection = collect_inputs(_arguments(settings), recursive=settings.recursive)
    if not collection.inputs:
        raise UsageError(_nothing_found(collection, _arguments_named(settings)))
    jobs, to_stdout = _jobs(collection.inputs, settings)
    keep_large_buffers()  # before any decoder thread exists: they share the one arena
    settings = replace(settings, model=_concrete(settings.model))
    # A bar and live transcript lines cannot share one terminal: the text is the progress.
    reporter = Reporter(quiet=settings.quiet or (to_stdout and sys.stdout.isatty()))
    runner = Runner(
        settings.decode,
        settings.writer,
        reporter,
        workers=settings.model.workers,
        overwrite=settings.overwrite,
    )
    with _stop_once():
        with reporter:
            for missing in collection.missing:
                reporter.failed(f"{display_name(missing)}: no such file or directory")
            result = runner.run(jobs, lambda: _load(settings))
        result.outcomes[:0] = [
            Outcome(Input(m, Path(m)), Status.failed, error="no such file or directory")
            for m in collection.missing
        ]
        if len(result.outcomes) > 1 or settings.verbose or result.interrupted:
            print_summary(result, reporter, ignored=collection.skipped)
        if settings.report is not None:
            document = report_document(result, settings.describe(), ignored=collection.skipped)
            write_report(settings.report, document)
    return _exit_code(result)


@contextmanager
def _stop_once() -> Iterator[None]:
    """Let Ctrl-C and SIGTERM stop the run once; a second one, while the run stops, is ignored.

    Stopping takes at most the current segment (per worker); a second signal must not cut
    short the discarding of partial files or the summary and report of the first.
    Ignored signals (a background job's SIGINT) stay ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Callable[[int, FrameType | None], Any]] = {}
    stopping = False

    def once(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            previous[signum](signum, frame)  # raises KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = handler
            signal.signal(signum, once)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _arguments(settings: RunSettings) -> list[str]:
    args = list(settings.inputs)
    if settings.from_file is not None:
        args.extend(_read_list(settings.from_file))
    return args


def _read_list(source: str) -> list[str]:
    if source == STDIN:
        if sys.stdin is None:
            raise UsageError("--from-file -: standard input is closed")
        # bytes decoded as the OS does, so that any file name `find` prints can be opened
        return read_file_list(os.fsdecode(line) for line in sys.stdin.buffer)
    try:
        with open(source, encoding="utf-8", errors="surrogateescape") as f:
            return read_file_list(f)
    except OSError as exc:
        raise UsageError(f"--from-file {display_name(source)}: {exc.strerror or exc}") from None


def _arguments_named(settings: RunSettings) -> str:
    """The inputs as the user gave them, for a message (at most three)."""
    names = [display_name(a) for a in settings.inputs[:3]] or [f"--from-file {settings.from_file}"]
    return ", ".join(names) + (", …" if len(settings.inputs) > 3 else "")


def _nothing_found(collection: Collection, arguments: str) -> str:
    if collection.missing:
        names = ", ".join(display_name(m) for m in collection.missing[:3])
        return f"{names}: no such file or directory"
    return f"{arguments}: no audio or video files found ({collection.skipped} other file(s) left alone)"


def _jobs(inputs: list[Input], settings: RunSettings) -> tuple[list[Job], bool]:
    """One job per input; the one case with no files: one input, one format, no -o."""
    if len(inputs) == 1 and settings.output_dir is None and len(settings.formats) == 1:
        return [Job(inputs[0], settings.formats, None)], True
    plan = plan_outputs(inputs, settings.formats, settings.output_dir)
    return [Job(item, settings.formats, plan[item]) for item in inputs], False


def _concrete(spec: ModelSpec) -> ModelSpec:
    """The spec with the worker count decided (it sizes the runner as well as the model)."""
    if spec.workers:
        return spec
    return replace(spec, workers=default_workers(resolve_device(spec.device)))


def _load(settings: RunSettings) -> TranscribeFn:
    spec = settings.model
    return get_whisper(spec.model, spec.compute_type, spec.device, spec.cpu_threads, workers=spec.workers)


def _exit_code(result: BatchResult) -> int:
    if result.interrupted:
        return int(ExitCode.INTERRUPTED)
    if result.count(Status.failed):
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
