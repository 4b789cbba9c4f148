"""The run summary on stderr and the machine-readable --report file, whose path is checked before any work.

The report may replace only an earlier whisper-cli report (or an empty file): never an
input, an output, a folder, a device or anything else, and a symlink is followed to the
file it names. Its folder must exist and be writable, found out before the first file
is transcribed rather than after the last. ``--report -`` writes it to stdout, where
stdout carries no transcript.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whisper_cli import __version__
from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.jobs import BatchResult, Outcome, Status
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.batch.paths import RealPaths
from whisper_cli.batch.sinks import AtomicFileSink, remove_stale_partials
from whisper_cli.console import Reporter, format_duration
from whisper_cli.core import streams
from whisper_cli.core.errors import OutputError, UsageError

REPORT_VERSION = 1
_SPECIAL_TREES = ("/dev", "/proc", "/sys")  # device nodes and the kernel's files: never a report


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """Where the --report goes: a checked file (``path``), or stdout (``path`` None)."""

    path: Path | None
    shown: str = "-"  # as the user gave it, for messages

    @classmethod
    def check(cls, given: Path, *, stdout_busy: bool) -> ReportTarget:
        """Check ``--report given`` before any work.

        Raises:
            UsageError: it cannot or may not be written, said in one line.
        """
        shown = display_name(given)
        if str(given) == STDIN:
            if stdout_busy:
                raise UsageError("--report -: stdout carries the transcript; give the report a file name")
            if streams.is_closed("stdout"):
                raise UsageError("--report -: standard output is closed")
            return cls(None)
        real = Path(os.path.realpath(given))
        if any(_under(p, tree) for p in (os.path.abspath(given), str(real)) for tree in _SPECIAL_TREES):
            raise UsageError(
                f"--report {shown}: a device or special file, not a file for a report (- for stdout)"
            )
        _check_existing(given, real, shown)
        _check_folder(real, shown, display_name(os.path.dirname(given) or os.curdir))
        return cls(real, shown)

    def check_against(self, inputs: Iterable[str], outputs: Iterable[Path]) -> None:
        """The report may be neither an input, nor where an output goes, nor a folder the
        outputs go into (``-o out --report out``: the run would make it), nor their ledger.

        Raises:
            UsageError: it is.
        """
        if self.path is None:
            return
        mine, real = str(self.path), RealPaths()  # each folder resolved once: 100,000 inputs
        if any(source != STDIN and real(source) == mine for source in inputs):
            raise UsageError(f"--report {self.shown} is one of the inputs; give the report another name")
        folders: set[str] = set()
        for path in outputs:
            if real(str(path)) == mine:
                raise UsageError(
                    f"--report {self.shown} is where a transcript goes; give the report another name"
                )
            folders.add(str(path.parent))
        for folder in map(real.folder, folders):  # made by the run, if not there yet
            if folder == mine or folder.startswith(mine + os.sep):
                raise UsageError(
                    f"--report {self.shown} is a folder the transcripts go into; give the report another name"
                )
            if os.path.join(folder, LEDGER_NAME) == mine:
                raise UsageError(
                    f"--report {self.shown} is whisper-cli's ledger; give the report another name"
                )

    def clean(self) -> None:
        """Remove temp files killed runs left beside the report."""
        if self.path is not None:
            remove_stale_partials(self.path.parent)

    def write(self, document: dict[str, Any]) -> bool:
        """Write the report: atomically to its file, or to stdout; False when the reader
        of stdout went away before it had all of it (``--report - | head -c 100``).

        Raises:
            OutputError: the file cannot be written.
        """
        if self.path is None:
            try:
                sys.stdout.write(json.dumps(document, indent=2) + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):  # EPIPE: the report was cut
                streams.stdout_to_devnull()
                return False
            return True
        write_report(self.path, document)
        return True


def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree + os.sep)


def _check_existing(given: Path, real: Path, shown: str) -> None:
    try:
        st = os.stat(real)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise UsageError(f"--report {shown}: {exc.strerror or exc}") from None
        if os.path.islink(given):
            raise UsageError(f"--report {shown} is a broken symbolic link; give a file name") from None
        return
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"--report {shown} is a folder; give a file name such as run.json")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"--report {shown} is not a regular file (a device, FIFO or socket); give a file name"
        )
    if st.st_size and not _is_report(real):
        raise UsageError(
            f"--report {shown} exists and is not a whisper-cli report: not replacing it; give another name"
        )


def _is_report(path: Path) -> bool:
    """Whether the file starts as every whisper-cli report does."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"report_version"' in head and b'"whisper_cli_version"' in head


def _check_folder(real: Path, shown: str, folder_shown: str) -> None:
    folder = real.parent
    if not folder.is_dir():
        raise UsageError(f"--report {shown}: folder {folder_shown} does not exist")
    probe = AtomicFileSink(real)
    try:
        probe.open()
    except OutputError as exc:
        cause = str(exc).rsplit("(", 1)[-1].rstrip(")")
        raise UsageError(f"--report {shown}: cannot write in {folder_shown} ({cause})") from None
    finally:
        probe.discard()


def print_summary(result: BatchResult, reporter: Reporter, *, ignored: int = 0, special: int = 0) -> None:
    """One line: what was done and written where, audio time, wall time and speed; then
    a line per failed input.

    One input that ran its course gets a line of its own (``wrote out/a.srt, out/a.txt;
    8.9 s of audio in 2.1 s, 4.3× real time``); a batch counts files done, skipped and
    failed and names the folder its files went to. ``ignored``: the non-media files found
    in the folders, left alone; ``special``: the FIFOs, sockets and devices found there.
    """
    if len(result.outcomes) == 1 and not (result.interrupted or result.stopped_by):
        line = _one_input(result, result.outcomes[0])
        if line is not None:
            reporter.info(line)
            return
    done, skipped, failed = (result.count(s) for s in (Status.done, Status.skipped, Status.failed))
    parts = [f"{done} done", f"{skipped} skipped", f"{failed} failed"]
    if result.interrupted or result.stopped_by:  # a signal, or what stopped the run: "model not loaded"
        why = "interrupted" if result.interrupted else result.stopped_by
        parts.append(f"{result.count(Status.pending) + result.count(Status.interrupted)} not done ({why})")
    if ignored:
        parts.append(f"{ignored} non-media file(s) ignored")
    if special:
        parts.append(f"{special} FIFO(s), socket(s) or device(s) left alone")
    line = f"{', '.join(parts)}; {_figures(result)}{_written(result)}"
    if skipped and not done and not failed:
        line += "; --overwrite redoes skipped inputs"
    reporter.info(line)
    for outcome in result.outcomes:
        if outcome.status is Status.failed:
            reporter.info(f"  failed: {outcome.input.name}: {outcome.error}")


def _figures(result: BatchResult) -> str:
    """Audio transcribed, in the unit that fits it, the wall time and the speed."""
    audio = result.audio_seconds
    speed = f", {audio / result.wall:.1f}× real time" if result.wall > 0 and audio > 0 else ""
    return f"{format_duration(audio)} of audio in {format_duration(result.wall)}{speed}"


def _one_input(result: BatchResult, outcome: Outcome) -> str | None:
    files = [display_name(name) for name in outcome.outputs if name != STDIN]
    if outcome.status is Status.done:
        return (
            f"wrote {', '.join(files)}; {_figures(result)}"
            if files
            else f"{outcome.input.name}: {_figures(result)}"
        )
    if outcome.status is Status.skipped:
        return (
            f"{outcome.input.name}: skipped, done before with these settings ({', '.join(files)}); "
            "--overwrite redoes it"
        )
    return None  # failed: its error line is said already


def _written(result: BatchResult) -> str:
    """``; wrote 12 files under out``: the files this run wrote, and their common folder."""
    files = [name for o in result.outcomes if o.status is Status.done for name in o.outputs if name != STDIN]
    if not files:
        return ""
    try:
        folder = os.path.commonpath([os.path.dirname(name) or os.curdir for name in files])
    except ValueError:  # absolute and relative paths, or two drives
        folder = ""
    where = f" under {display_name(folder)}" if folder and folder != os.curdir else ""
    return f"; wrote {len(files)} file{'s' if len(files) != 1 else ''}{where}"


def report_document(
    result: BatchResult,
    settings: dict[str, Any],
    *,
    exit_code: int,
    ignored: int = 0,
    special: int = 0,
    subfolders: int = 0,
) -> dict[str, Any]:
    """The --report JSON document: one record per input, in input order.

    ``exit_code``: the run's exit status; ``ignored``: the non-media files found in the
    folders, left alone; ``special``: the FIFOs, sockets and devices found there, never
    opened; ``subfolders``: the subfolders
    of folder arguments not entered (no -r).
    """
    return {
        "report_version": REPORT_VERSION,
        "whisper_cli_version": __version__,
        "settings": settings,
        "exit_code": exit_code,
        "interrupted": result.interrupted,
        "stopped_by": result.stopped_by,
        "error": None if result.fatal is None else str(result.fatal),
        "wall_seconds": round(result.wall, 3),
        "audio_seconds": round(result.audio_seconds, 3),
        "counts": {s.value: result.count(s) for s in Status},
        "ignored": ignored,
        "special_files": special,
        "subfolders_not_entered": subfolders,
        "inputs": [
            {
                "path": o.input.source,
                "status": o.status.value,
                "outputs": list(o.outputs),
                "duration": None if o.duration is None else round(o.duration, 3),
                "language": o.language,
                "error": o.error,
                "reason": o.reason,
                "seconds": round(o.seconds, 3),
                "node": o.node,  # the Ray node that did it (--ray); null on one machine
                "speakers": o.speakers,  # speakers labelled (--diarize); null without
            }
            for o in result.outcomes
        ],
    }


def write_report(path: Path, document: dict[str, Any]) -> None:
    """Write the report atomically, like every output (temp file + rename)."""
    sink = AtomicFileSink(path)
    try:
        # ASCII escapes: every file name survives, a non-UTF-8 one as a \udcXX escape.
        json.dump(document, sink.open(), indent=2)
        sink.commit()
    except OSError as exc:
        sink.discard()
        raise OutputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
    except BaseException:
        sink.discard()
        raise
