"""One line of a folder's ledger: an output's name, content hash, input and settings, as JSON."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whisper_cli import __version__
from whisper_cli.batch.paths import RealPaths


@dataclass(frozen=True, slots=True)
class InputStamp:
    """An input as a ledger line names it: its real path from the ledger's folder, size and mtime."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, source: str, folder: Path, real: RealPaths | None = None) -> InputStamp | None:
        """The stamp of ``source`` seen from ``folder``; None when it cannot be read (or is stdin).
        ``real``: the run's real paths (each folder resolved once)."""
        try:
            st = os.stat(source)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # a pipe or a device: what it held cannot be known again
        return cls(input_path(source, folder, real), st.st_size, st.st_mtime_ns)


def input_path(source: str, folder: Path, real: RealPaths | None = None) -> str:
    """An input's real path as a ledger line names it: relative to the ledger's real folder."""
    real = real or RealPaths()
    return os.path.relpath(real(source), real.folder(str(folder)))


@dataclass(frozen=True, slots=True)
class Entry:
    """One output whisper-cli wrote: its name in the folder, content, input and settings."""

    output: str
    sha256: str
    size: int
    input: InputStamp | None  # None: from stdin or a stream, never taken as done
    settings: str  # the settings' fingerprint (RunSettings.fingerprint)
    line: str = field(default="", compare=False)  # as read from the ledger (kept whole by compaction)

    def to_json(self) -> str:
        """The ledger line (without its newline)."""
        record: dict[str, Any] = {
            "output": self.output,
            "sha256": self.sha256,
            "size": self.size,
            "input": None if self.input is None else _stamp_json(self.input),
            "settings": self.settings,
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "by": f"whisper-cli {__version__}",
        }
        return json.dumps(record, separators=(",", ":"))  # ASCII: any file name survives

    @classmethod
    def from_json(cls, line: str) -> Entry | None:
        """The entry of a ledger line; None for a line that is torn or not ours."""
        try:
            r = json.loads(line)
            stamp = r["input"]
            return cls(
                line=line,
                output=str(r["output"]),
                sha256=str(r["sha256"]),
                size=int(r["size"]),
                input=None
                if stamp is None
                else InputStamp(str(stamp["path"]), int(stamp["size"]), int(stamp["mtime_ns"])),
                settings=str(r["settings"]),
            )
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            return None  # torn, not ours, or hand-edited past sense ("size": 1e999, deep nesting)


def _stamp_json(stamp: InputStamp) -> dict[str, Any]:
    return {"path": stamp.path, "size": stamp.size, "mtime_ns": stamp.mtime_ns}


def parse_lines(data: bytes) -> dict[str, list[Entry]]:
    """Output name → its ledger lines, oldest first; torn or foreign lines are passed over."""
    entries: dict[str, list[Entry]] = {}
    for raw in data.splitlines():
        entry = Entry.from_json(raw.decode("ascii", "replace").strip()) if raw.strip() else None
        if entry is not None:
            entries.setdefault(entry.output, []).append(entry)
    return entries
