"""The run summary on stderr and the machine-readable --report file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from whisper_cli import __version__
from whisper_cli.console import Reporter, format_duration
from whisper_cli.errors import OutputError
from whisper_cli.runner import BatchResult, Status
from whisper_cli.sinks import AtomicFileSink

REPORT_VERSION = 1


def print_summary(result: BatchResult, reporter: Reporter, *, ignored: int = 0) -> None:
    """Files done, skipped, failed (with reasons), audio time, wall time and speed.

    ``ignored``: the non-media files found in the folders, left alone.
    """
    done, skipped, failed = (result.count(s) for s in (Status.done, Status.skipped, Status.failed))
    audio = result.audio_seconds
    speed = f", {audio / result.wall:.1f}× real time" if result.wall > 0 and audio > 0 else ""
    parts = [f"{done} done", f"{skipped} skipped", f"{failed} failed"]
    if result.interrupted:
        parts.append(
            f"{result.count(Status.pending) + result.count(Status.interrupted)} not done (interrupted)"
        )
    if ignored:
        parts.append(f"{ignored} non-media file(s) ignored")
    reporter.info(
        f"{', '.join(parts)}; {audio / 3600:.2f} h of audio in {format_duration(result.wall)}{speed}"
    )
    for outcome in result.outcomes:
        if outcome.status is Status.failed:
            reporter.info(f"  failed: {outcome.input.name}: {outcome.error}")


def report_document(result: BatchResult, settings: dict[str, Any], *, ignored: int = 0) -> dict[str, Any]:
    """The --report JSON document: one record per input, in input order.

    ``ignored``: the non-media files found in the folders, left alone.
    """
    return {
        "report_version": REPORT_VERSION,
        "whisper_cli_version": __version__,
        "settings": settings,
        "interrupted": result.interrupted,
        "wall_seconds": round(result.wall, 3),
        "audio_seconds": round(result.audio_seconds, 3),
        "counts": {s.value: result.count(s) for s in Status},
        "ignored": ignored,
        "inputs": [
            {
                "path": o.input.source,
                "status": o.status.value,
                "outputs": list(o.outputs),
                "duration": None if o.duration is None else round(o.duration, 3),
                "language": o.language,
                "error": o.error,
                "seconds": round(o.seconds, 3),
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
