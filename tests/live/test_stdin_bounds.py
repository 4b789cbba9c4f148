"""--live stdin that lies or changes: a huge WAV chunk, a second WAV header, a container's format changing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, sample_text, wer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]
LIVE = ("-", "--live", "-m", "tiny.en")
FED_AT_MOST = 512 << 20  # bytes the feeder writes after a huge chunk's header unless the run stops reading


def ffmpeg(name: str, *fmt_args: str) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(SAMPLES / name), *fmt_args, "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def file_wav(name: str, *fmt_args: str) -> bytes:
    """A WAV as ffmpeg writes it to a file: its sizes are the real ones."""
    data = ffmpeg(name, *fmt_args, "-f", "wav")
    riff, data_at = len(data) - 8, data.index(b"data") + 4
    size = len(data) - data_at - 4
    return b"RIFF" + struct.pack("<I", riff) + data[8:data_at] + struct.pack("<I", size) + data[data_at + 4 :]


def with_chunk(wav: bytes, kind: bytes, size: int, body: bytes = b"") -> bytes:
    """``wav`` with a chunk inserted before its ``data`` (its header says ``size``; ``body`` follows)."""
    at = wav.index(b"data")
    return wav[:at] + kind + struct.pack("<I", size) + body + wav[at:]


def one_error_line(res: subprocess.CompletedProcess, *words: str) -> str:
    lines = res.stderr.decode().strip().splitlines()
    assert res.returncode == 1, res.stderr
    assert len(lines) == 1 and lines[0].startswith("whisper-cli: error: <stdin>: "), lines
    assert all(word in lines[0] for word in words), lines
    return lines[0]


def test_a_huge_chunk_before_the_data_is_one_line_at_once_not_read_into_memory():
    fmt = struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 2, 16)
    header = b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt
    header += b"LIST" + struct.pack("<I", 0xFFFFFFF0)  # says 4 GiB; what follows never ends
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *LIVE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    written, piece = [0], bytes(1 << 16)

    def feed() -> None:  # an endless stream, as far as the run can tell
        try:
            proc.stdin.write(header)
            while written[0] < FED_AT_MOST:
                proc.stdin.write(piece)
                written[0] += len(piece)
            proc.stdin.close()
        except BrokenPipeError:
            pass

    ended = threading.Event()
    peak = [0]  # KiB: the child's own high-water mark (VmHWM), read while it runs

    def watch() -> None:
        # Not wait4's ru_maxrss: a child forked from this (large) pytest process starts with
        # its parent's resident pages counted, and exec keeps that figure.
        while not ended.is_set():
            with contextlib.suppress(OSError):
                status_text = Path(f"/proc/{proc.pid}/status").read_text()
                found = re.search(r"VmHWM:\s+(\d+)", status_text)
                peak[0] = max(peak[0], int(found.group(1)) if found else 0)
            time.sleep(0.02)

    feeder = threading.Thread(target=feed, daemon=True)
    watcher = threading.Thread(target=watch, daemon=True)
    feeder.start()
    watcher.start()
    try:
        _, status, _ = os.wait4(proc.pid, 0)
    finally:
        ended.set()
        if proc.poll() is None:
            proc.kill()
    proc.returncode = os.waitstatus_to_exitcode(status)
    feeder.join(timeout=30)
    res = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.read(), proc.stderr.read())
    line = one_error_line(res, "LIST", "4294967280")
    assert res.stdout == b"", line
    assert written[0] < FED_AT_MOST, "the run read the whole stream before it gave up"
    watcher.join(timeout=5)
    assert 0 < peak[0] < 500 * 1024, f"peak RSS {peak[0] / 1024:.0f} MiB"


def test_a_chunk_of_a_mebibyte_before_the_data_is_skipped_and_the_speech_transcribed():
    junk = os.urandom((1 << 20) + 1)  # odd: the pad byte after it is skipped too
    wav = with_chunk(file_wav("hello.wav"), b"JUNK", len(junk), junk + b"\0")
    res = run_cli(*LIVE, input=wav, timeout=120)
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello.wav"), res.stdout.decode()) < 0.3, res.stdout


@pytest.mark.parametrize("sizes", ["real", "unknown"])
def test_a_second_wav_header_in_another_format_is_refused_after_the_first_is_printed(sizes):
    first = file_wav("hello.wav") if sizes == "real" else ffmpeg("hello.wav", "-f", "wav")
    second = ffmpeg("weather.mp3", "-f", "wav", "-ar", "44100", "-ac", "2")  # as ffmpeg restarting would
    res = run_cli(*LIVE, input=first + second, timeout=120)
    line = one_error_line(res, "format changes", "16000 Hz", "44100 Hz")
    text = res.stdout.decode().lower()
    assert "welcome" in text and "microphone" in text, (text, line)
    assert "weather" not in text, text


def test_a_second_wav_header_in_the_same_format_goes_on():
    first, second = file_wav("hello.wav"), ffmpeg("weather.mp3", "-f", "wav", "-ar", "16000", "-ac", "1")
    res = run_cli(*LIVE, input=first + second, timeout=120)
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    expected = sample_text("hello.wav") + " " + sample_text("weather.mp3")
    assert wer(expected, text) < 0.3, text


def test_a_container_whose_rate_and_layout_change_is_resampled_through_the_change():
    """MPEG-TS from 48 kHz stereo to 22.05 kHz mono (a broadcast's next programme): both are heard."""
    first = ffmpeg("hello.wav", "-ar", "48000", "-ac", "2", "-c:a", "mp2", "-f", "mpegts")
    second = ffmpeg("weather.mp3", "-ar", "22050", "-ac", "1", "-c:a", "mp2", "-f", "mpegts")
    res = run_cli(*LIVE, input=first + second, timeout=120)
    assert res.returncode == 0, res.stderr
    expected = sample_text("hello.wav") + " " + sample_text("weather.mp3")
    assert wer(expected, res.stdout.decode()) < 0.3, res.stdout


def test_a_chained_ogg_whose_parameters_change_is_refused_after_the_first_is_printed():
    first = ffmpeg("hello.wav", "-ac", "1", "-c:a", "libopus", "-f", "ogg")
    second = ffmpeg("weather.mp3", "-ac", "2", "-c:a", "libopus", "-f", "ogg")
    res = run_cli(*LIVE, input=first + second, timeout=120)
    line = one_error_line(res, "format changes")
    text = res.stdout.decode().lower()
    assert "welcome" in text and "microphone" in text, (text, line)
