"""The project's only time formatter: seconds to SRT, VTT and TSV timestamps.

Times are rounded to whole milliseconds *before* they are split into hours, minutes
and seconds, so a value such as 59.9999 reads ``00:01:00.000``, never ``00:00:60.000``.
Rounding is half-up on the number as written (``0.9995`` is ``1.000``), not on its
binary approximation, which is a hair below.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_MS = Decimal("0.001")


def to_milliseconds(seconds: float) -> int:
    """Seconds to whole milliseconds, rounding half up; negative times become 0."""
    value = float(seconds)
    if not math.isfinite(value):
        raise ValueError(f"cannot format a non-finite time: {value!r}")
    if value <= 0:
        return 0
    # str() gives the shortest decimal that reads back as the same float, and it is
    # monotonic in the float, so rounding it keeps the order of the inputs.
    return int(Decimal(str(value)).quantize(_MS, rounding=ROUND_HALF_UP) * 1000)


def format_timestamp(seconds: float, *, always_include_hours: bool = False, decimal_marker: str = ".") -> str:
    """Format ``seconds`` as ``[HH:]MM:SS.mmm``; hours past 99 take more digits."""
    hours, rest = divmod(to_milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    hours_part = f"{hours:02d}:" if always_include_hours or hours else ""
    return f"{hours_part}{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def srt_timestamp(seconds: float) -> str:
    """SRT time: ``HH:MM:SS,mmm``."""
    return format_timestamp(seconds, always_include_hours=True, decimal_marker=",")


def vtt_timestamp(seconds: float) -> str:
    """WebVTT time, always with hours: ``HH:MM:SS.mmm``."""
    return format_timestamp(seconds, always_include_hours=True, decimal_marker=".")


def tsv_timestamp(seconds: float) -> int:
    """TSV time: integer milliseconds, so no locale ever reads a decimal comma."""
    return to_milliseconds(seconds)
