"""One run of the transcribe command: inputs → jobs → runner → summary, report, exit code.

The --report path is checked first, while a stop signal is still only recorded; from
then on a signal stops the run within a second (listing the inputs finishes first when
it is quicker than that, so that the report names them), and whatever ends it (done,
failures, SIGINT, SIGTERM, SIGHUP, a vanished stdout or stderr reader, a model that
cannot load) the summary and the report are written.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.inputs import Collection, Input, Unusable, collect_inputs, read_file_list
from whisper_cli.batch.jobs import BatchResult, Job, Outcome, Status
from whisper_cli.batch.local import LocalExecutor
from whisper_cli.batch.outputs import fallback_path, plan_outputs
from whisper_cli.batch.report import ReportTarget, print_summary, report_document
from whisper_cli.batch.runner import Runner
from whisper_cli.cli.unused import warn_unused
from whisper_cli.console import Reporter
from whisper_cli.core import signals, streams
from whisper_cli.core.errors import ExitCode, UsageError
from whisper_cli.core.malloc import keep_large_buffers
from whisper_cli.core.transcript import TranscribeFn
from whisper_cli.decode.hardware import default_workers, resolve_device
from whisper_cli.decode.whisper import ModelSpec, get_whisper
from whisper_cli.settings import RunSettings
from whisper_cli.writers.tsv import header

ONE_DOCUMENT = ("json", "srt", "vtt")  # formats whose stream holds one input: not several on stdout

log = logging.getLogger(__name__)


def run_session(settings: RunSettings) -> int:
    """Transcribe everything the settings name; return the exit code."""
    try:
        warn_unused(settings)
        if settings.live is not None:
            from whisper_cli.live.run import run_live  # a stream, not a list of inputs

            return run_live(settings)
        return _session(settings)
    finally:
        signals.reset()


def _session(settings: RunSettings) -> int:
    if settings.ray_token_file is not None and settings.ray is None:
        raise UsageError("--ray-token-file needs --ray")
    if settings.ray is not None:
        from whisper_cli.cluster.auth import check_token_file
        from whisper_cli.cluster.executor import import_ray

        import_ray(settings.ray)  # not installed: a usage error, before anything else
        check_token_file(settings.ray_token_file)
    report = None if settings.report is None else ReportTarget.check(settings.report, stdout_busy=False)
    collection, result = Collection(), BatchResult()
    try:
        # Listing blocks on nothing and is cut short by a signal once it has taken a second:
        # a signal that came while starting is acted on once the inputs are known, so the
        # report can list them.
        with signals.armed_for(_blocking_reads(settings)):
            listed = _listed(settings.from_file)
        collection = collect_inputs(
            settings.inputs, listed=listed, recursive=settings.recursive, stop=_stop_listing()
        )
        if settings.diarize is not None and settings.diarize.mode == "channels":
            _stereo_only(collection)
        if not collection.inputs and not collection.stopped:
            raise UsageError(_nothing_found(collection, _arguments_named(settings)))
        _say_unentered(collection)
        # From here a signal stops the run at once: planning 100,000 inputs takes seconds,
        # and writes nothing that a stop could leave half done.
        with signals.armed():
            jobs, to_stdout = _jobs(collection.inputs, settings)
            _check_streams(collection.inputs, to_stdout)
            if settings.ray is not None and any(item.source == STDIN for item in collection.inputs):
                raise UsageError("--ray: audio from standard input (-) cannot reach the cluster's workers")
            if report is not None:
                _check_report(report, jobs, to_stdout)
            result = _run(jobs, collection, settings, to_stdout)
    except KeyboardInterrupt:
        result = BatchResult(
            outcomes=[Outcome(item, Status.pending) for item in collection.inputs], interrupted=True
        )
    received = signals.received()
    if received is not None or result.interrupted:
        result.interrupted, result.stopped_by = True, result.stopped_by or signals.name(received)
    result.outcomes[:0] = [
        Outcome(Input(m.path, Path(m.path)), Status.failed, error=m.cause) for m in collection.missing
    ]
    if len(result.outcomes) > 1 or settings.verbose or result.interrupted or _files_in(result):
        print_summary(
            result, Reporter(quiet=settings.quiet), ignored=collection.skipped, special=collection.special
        )
    code = int(result.fatal.exit_code) if result.fatal is not None else _exit_code(result, received)
    whole = True
    if report is not None:
        document = report_document(
            result,
            settings.describe(),
            exit_code=code,
            ignored=collection.skipped,
            special=collection.special,
            subfolders=sum(collection.unentered.values()),
        )
        whole = report.write(document)  # False: cut by a reader of stdout that went away
    if result.fatal is not None:
        raise result.fatal
    if not whole and code == ExitCode.OK:
        return int(ExitCode.FAILED)  # the report's reader went away: as for a transcript's
    return code


def _files_in(result: BatchResult) -> bool:
    """Whether the run wrote files, or found them done: a person is owed a word on where."""
    return any(o.status in (Status.done, Status.skipped) and STDIN not in o.outputs for o in result.outcomes)


def _say_unentered(collection: Collection) -> None:
    """One warning per folder argument whose subfolders were left out (no -r)."""
    for folder, count in collection.unentered.items():
        them = "it" if count == 1 else "them"
        log.warning(
            "%s: %d subfolder%s not entered; add -r to transcribe %s too",
            display_name(folder),
            count,
            "" if count == 1 else "s",
            them,
        )


def _stereo_only(collection: Collection) -> None:
    """--diarize channels: an input whose header says it is not two-channel is set aside as
    unusable, like a missing path (one line each; the others go on; none left: a usage error)."""
    from whisper_cli.audio.stereo import channel_count, not_stereo

    kept = []
    for item in collection.inputs:
        channels = channel_count(item.source)
        if channels is None or channels == 2:  # not known from the header: the decode tells
            kept.append(item)
        else:
            collection.missing.append(Unusable(item.source, not_stereo(channels)))
    collection.inputs = kept


def _stop_listing() -> Callable[[], bool]:
    """Whether to cut the listing short: a signal came, and listing has taken over a second
    (a huge tree on a slow disk); a quicker listing is finished, so the report names every input."""
    started = time.monotonic()
    return lambda: signals.received() is not None and time.monotonic() - started > 1.0


def _blocking_reads(settings: RunSettings) -> bool:
    """Whether reading the input list may block (a terminal, a pipe): then a signal must stop it."""
    return settings.from_file == STDIN


def _run(jobs: list[Job], collection: Collection, settings: RunSettings, to_stdout: bool) -> BatchResult:
    keep_large_buffers()  # before any decoder thread exists: they share the one arena
    if settings.ray is None:  # on a cluster, --workers 0 means as many actors as fit
        settings = replace(settings, model=_concrete(settings.model))
    # A bar and live transcript lines cannot share one terminal: the text is the progress.
    reporter = Reporter(quiet=settings.quiet or (to_stdout and sys.stdout.isatty()))
    runner = Runner(
        settings.decode,
        settings.writer,
        reporter,
        workers=settings.model.workers,
        overwrite=settings.overwrite,
        keys={fmt: settings.fingerprint(fmt) for fmt in settings.formats},
        print_times=settings.print_times,
        diarize=settings.diarize,
    )
    if settings.stream and settings.formats == ("tsv",):
        # the stream's header, once; flushed with the first row
        sys.stdout.write(header(named=True, speakers=settings.writer.speakers))
    with reporter:
        for missing in collection.missing:
            reporter.failed(f"{display_name(missing.path)}: {missing.cause}")
        if settings.ray is not None:
            from whisper_cli.cluster.executor import run_on_ray

            return run_on_ray(runner, jobs, settings.ray, settings.model, settings.ray_token_file)
        return runner.execute(jobs, LocalExecutor(runner, lambda: _load(settings)))


def _check_streams(inputs: list[Input], to_stdout: bool) -> None:
    """Refuse what needs a standard stream that was closed when the process started."""
    if any(item.source == STDIN for item in inputs) and streams.is_closed("stdin"):
        raise UsageError("-: standard input is closed; there is no audio to read")
    if to_stdout and streams.is_closed("stdout"):
        raise UsageError("standard output is closed: nothing can take the transcript; use -o DIR")


def _check_report(report: ReportTarget, jobs: list[Job], to_stdout: bool) -> None:
    if report.path is None and to_stdout:
        raise UsageError("--report -: stdout carries the transcript; give the report a file name")
    outputs = [
        path
        for job in jobs
        for primary in (job.targets or {}).values()
        for path in (primary, fallback_path(job.input, primary))
    ]
    report.check_against((job.input.source for job in jobs), outputs)
    report.clean()


def _listed(source: str | None) -> list[str]:
    return [] if source is None else _read_list(source)


def _read_list(source: str) -> list[str]:
    if source == STDIN:
        if sys.stdin is None or streams.is_closed("stdin"):
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
        return "; ".join(f"{display_name(m.path)}: {m.cause}" for m in collection.missing[:3])
    special = (
        f", {collection.special} FIFO(s), socket(s) or device(s) not opened" if collection.special else ""
    )
    unentered = sum(collection.unentered.values())
    below = f"; {unentered} subfolder(s) not entered: add -r to look in them" if unentered else ""
    return (
        f"{arguments}: no audio or video files found "
        f"({collection.skipped} other file(s) left alone{special}){below}"
    )


def _jobs(inputs: list[Input], settings: RunSettings) -> tuple[list[Job], bool]:
    """One job per input; no files with -o -, or with one input, one format and no -o."""
    if settings.stream:
        fmt = settings.formats[0]
        if len(inputs) > 1 and fmt in ONE_DOCUMENT:
            raise UsageError(
                f"-o -: {fmt} holds one input's transcript and {len(inputs)} inputs were found; "
                "use -o DIR, or -f jsonl, txt or tsv, whose lines name their file"
            )
        return [Job(item, settings.formats, None) for item in inputs], True
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


def _exit_code(result: BatchResult, received: int | None) -> int:
    if result.interrupted:
        return int(signals.exit_code(received))
    if result.stopped_by or result.count(Status.failed):
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
