"""One run of the transcribe command: inputs → jobs → runner → summary, report, exit code."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from whisper_cli.audio import STDIN, display_name
from whisper_cli.console import Reporter
from whisper_cli.errors import ExitCode, UsageError
from whisper_cli.inputs import Collection, Input, collect_inputs, plan_outputs, read_file_list
from whisper_cli.model import get_whisper
from whisper_cli.report import print_summary, report_document, write_report
from whisper_cli.runner import BatchResult, Job, Outcome, Runner, Status
from whisper_cli.settings import RunSettings
from whisper_cli.transcript import TranscribeFn

log = logging.getLogger(__name__)


def run_session(settings: RunSettings) -> int:
    """Transcribe everything the settings name; return the exit code."""
    collection = collect_inputs(_arguments(settings), recursive=settings.recursive)
    if not collection.inputs:
        raise UsageError(_nothing_found(collection))
    jobs, to_stdout = _jobs(collection.inputs, settings)
    # A bar and live transcript lines cannot share one terminal: the text is the progress.
    reporter = Reporter(quiet=settings.quiet or (to_stdout and sys.stdout.isatty()))
    if collection.skipped:
        log.info("%d non-media file(s) in the folders were left alone", collection.skipped)
    runner = Runner(
        settings.decode,
        settings.writer,
        reporter,
        workers=settings.model.workers,
        overwrite=settings.overwrite,
    )
    with reporter:
        for missing in collection.missing:
            reporter.failed(f"{display_name(missing)}: no such file or directory")
        result = runner.run(jobs, lambda: _load(settings))
    result.outcomes[:0] = [
        Outcome(Input(m, Path(m)), Status.failed, error="no such file or directory") for m in collection.missing
    ]
    if len(result.outcomes) > 1 or settings.verbose or result.interrupted:
        print_summary(result, reporter)
    if settings.report is not None:
        write_report(settings.report, report_document(result, settings.describe()))
    return _exit_code(result)


def _arguments(settings: RunSettings) -> list[str]:
    args = list(settings.inputs)
    if settings.from_file is not None:
        args.extend(_read_list(settings.from_file))
    return args


def _read_list(source: str) -> list[str]:
    if source == STDIN:
        return read_file_list(sys.stdin)
    try:
        with open(source, encoding="utf-8", errors="surrogateescape") as f:
            return read_file_list(f)
    except OSError as exc:
        raise UsageError(f"--from-file {display_name(source)}: {exc.strerror or exc}") from None


def _nothing_found(collection: Collection) -> str:
    if collection.missing:
        names = ", ".join(display_name(m) for m in collection.missing[:3])
        return f"{names}: no such file or directory"
    return f"no audio or video files found ({collection.skipped} other file(s) left alone)"


def _jobs(inputs: list[Input], settings: RunSettings) -> tuple[list[Job], bool]:
    """One job per input; the one case with no files: one input, one format, no -o."""
    if len(inputs) == 1 and settings.output_dir is None and len(settings.formats) == 1:
        return [Job(inputs[0], settings.formats, None)], True
    plan = plan_outputs(inputs, settings.formats, settings.output_dir)
    return [Job(item, settings.formats, plan[item]) for item in inputs], False


def _load(settings: RunSettings) -> TranscribeFn:
    spec = settings.model
    return get_whisper(spec.model, spec.compute_type, spec.device, spec.cpu_threads, workers=spec.workers)


def _exit_code(result: BatchResult) -> int:
    if result.interrupted:
        return int(ExitCode.INTERRUPTED)
    if result.count(Status.failed):
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
