"""The one time formatter: tables of edge cases and hypothesis properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whisper_cli.writers.timestamps import (
    format_timestamp,
    srt_timestamp,
    to_milliseconds,
    tsv_timestamp,
    vtt_timestamp,
)

TIMES = st.floats(min_value=0, max_value=400 * 3600, allow_nan=False)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00.000"),
        (0.0004, "00:00.000"),
        (0.0005, "00:00.001"),
        (0.9995, "00:01.000"),
        (1.0005, "00:01.001"),
        (59.9999, "01:00.000"),
        (61.5, "01:01.500"),
        (3599.9996, "01:00:00.000"),
        (3600, "01:00:00.000"),
        (-3.2, "00:00.000"),
        (360000, "100:00:00.000"),
        (360000 + 3661.25, "101:01:01.250"),
        (3_600_000 * 10, "10000:00:00.000"),
    ],
)
def test_format_timestamp(seconds: float, expected: str) -> None:
    assert format_timestamp(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt", "ms"),
    [
        (0, "00:00:00,000", "00:00:00.000", 0),
        (0.9995, "00:00:01,000", "00:00:01.000", 1000),
        (3599.9996, "01:00:00,000", "01:00:00.000", 3600000),
        (12.3456, "00:00:12,346", "00:00:12.346", 12346),
        (400_000.001, "111:06:40,001", "111:06:40.001", 400000001),
    ],
)
def test_format_helpers(seconds: float, srt: str, vtt: str, ms: int) -> None:
    assert srt_timestamp(seconds) == srt
    assert vtt_timestamp(seconds) == vtt
    assert tsv_timestamp(seconds) == ms


def test_options() -> None:
    assert format_timestamp(1.5, always_include_hours=True) == "00:00:01.500"
    assert format_timestamp(1.5, decimal_marker=",") == "00:01,500"


def test_accepts_numpy_floats() -> None:
    np = pytest.importorskip("numpy")
    assert format_timestamp(np.float64(0.9995)) == "00:01.000"
    assert to_milliseconds(np.float32(2.5)) == 2500


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_is_an_error(value: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_timestamp(value)


def parse(stamp: str) -> float:
    """Read ``[H…:]MM:SS.mmm`` (either decimal marker) back into seconds."""
    *hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours[0] if hours else 0) * 3600 + int(minutes) * 60 + float(rest)


@given(TIMES, TIMES)
def test_monotonic(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert to_milliseconds(low) <= to_milliseconds(high)
    assert parse(srt_timestamp(low)) <= parse(srt_timestamp(high))


@given(TIMES, st.booleans())
def test_shape_never_sixty(seconds: float, hours: bool) -> None:
    stamp = format_timestamp(seconds, always_include_hours=hours)
    assert re.fullmatch(r"(\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}", stamp), stamp
    assert ":60" not in stamp


@given(TIMES)
def test_round_trip_within_half_a_millisecond(seconds: float) -> None:
    assert abs(parse(vtt_timestamp(seconds)) - seconds) <= 0.0005 + 1e-9
    assert abs(to_milliseconds(seconds) / 1000 - seconds) <= 0.0005 + 1e-9


@given(st.floats(max_value=0, allow_nan=False, allow_infinity=False))
def test_negative_clamps_to_zero(seconds: float) -> None:
    assert srt_timestamp(seconds) == "00:00:00,000"
