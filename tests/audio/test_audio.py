"""load_audio: every format path to 16 kHz mono float32, and every bad input to one clear cause."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SAMPLES, run_cli, write_tone
from whisper_cli.audio.load import SAMPLE_RATE, display_name, iter_audio, load_audio
from whisper_cli.core.errors import AudioError

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


@pytest.mark.parametrize(
    ("rate", "channels", "subtype", "ext"),
    [
        (16000, 1, "PCM_16", "wav"),
        (8000, 1, "PCM_16", "wav"),
        (44100, 2, "PCM_24", "wav"),
        (96000, 1, "FLOAT", "wav"),
        (48000, 6, "PCM_16", "flac"),
        (22050, 1, "VORBIS", "ogg"),
    ],
)
def test_soundfile_formats_become_16k_mono(tmp_path, rate, channels, subtype, ext):
    t = np.arange(rate * 2) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / f"tone.{ext}"
    sf.write(path, np.repeat(tone[:, None], channels, axis=1), rate, subtype=subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(2 * SAMPLE_RATE, abs=SAMPLE_RATE * 0.01)
    assert np.abs(audio).max() == pytest.approx(0.3, abs=0.05)  # downmixed, not summed


@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp3", "m4a", "opus", "webm"])
def test_compressed_formats_go_through_pyav(tmp_path, ext):
    path = tmp_path / f"hello.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SAMPLES / "hello.wav"), str(path)], check=True)
    audio = load_audio(path)
    assert len(audio) / SAMPLE_RATE == pytest.approx(sf.info(SAMPLES / "hello.wav").duration, abs=0.1)


def test_stereo_is_averaged_not_summed(tmp_path):
    rate = 16000
    left = np.full(rate, 0.5, np.float32)
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, -left], axis=1), rate, subtype="FLOAT")
    assert np.abs(load_audio(path)).max() < 1e-6


def _bad_inputs(tmp_path):
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "text.wav").write_text("hello, I am text\n" * 50)
    (tmp_path / "random.flac").write_bytes(os.urandom(4000))
    sf.write(tmp_path / "header_only.wav", np.zeros((0, 1), np.float32), 16000)
    return {
        "missing.wav": "no such file",
        "folder.wav": "is a directory",
        "empty.mp3": "empty file",
        "text.wav": "cannot decode audio",
        "random.flac": "cannot decode audio",
        "header_only.wav": "contains no audio samples",
    }


def test_bad_inputs_raise_audio_error_naming_the_file(tmp_path):
    for name, cause in _bad_inputs(tmp_path).items():
        with pytest.raises(AudioError) as err:
            load_audio(tmp_path / name)
        assert str(tmp_path / name) in str(err.value)
        assert cause in err.value.cause


@needs_ffmpeg
def test_video_without_audio_is_named_as_such(tmp_path):
    video = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", str(video)], check=True
    )
    with pytest.raises(AudioError, match="video with no audio track"):
        load_audio(video)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write_tone(tmp_path / "locked.wav")
    path.chmod(0)
    with pytest.raises(AudioError, match="permission denied"):
        load_audio(path)


def test_truncated_files_give_what_was_recorded(tmp_path):
    data = (SAMPLES / "lecture.flac").read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 3])
    audio = load_audio(cut)
    assert 5 * SAMPLE_RATE < len(audio) < 30 * SAMPLE_RATE


def test_display_name_is_one_printable_line():
    assert display_name("-") == "<stdin>"
    assert display_name("a\nb.wav") == "a\\nb.wav"
    assert display_name("a\r\tb.wav") == "a\\r\\tb.wav"
    assert display_name(os.fsdecode(b"caf\xe9.wav")) == "caf\\xe9.wav"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("\x1b[31mred.wav", "\\x1b[31mred.wav"),  # ESC: would colour the terminal
        ("bell\x07.wav", "bell\\x07.wav"),
        ("del\x7f.wav", "del\\x7f.wav"),
        ("c1\x9b31m.wav", "c1\\x9b31m.wav"),  # the one-character CSI
        ("nel\x85.wav", "nel\\x85.wav"),
        ("nbsp\xa0.wav", "nbsp\\xa0.wav"),
        ("line\u2028sep.wav", "line\\u2028sep.wav"),
        ("rtl\u202eoverride.wav", "rtl\\u202eoverride.wav"),  # reverses what follows on screen
        ("zero\u200bwidth.wav", "zero\\u200bwidth.wav"),
        ("tag\U000e0041.wav", "tag\\U000e0041.wav"),
        ("café ☕ 日本.wav", "café ☕ 日本.wav"),  # printable stays as it is
        ("with space.wav", "with space.wav"),
    ],
)
def test_display_name_escapes_what_a_terminal_would_act_on(name, shown):
    assert display_name(name) == shown
    assert display_name(name).isprintable()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("  in/one.wav", "'  in/one.wav'"),
        ("one.wav ", "'one.wav '"),
        (" ", "' '"),
        ("\ta.wav ", "'\\ta.wav '"),
    ],
)
def test_display_name_quotes_leading_and_trailing_spaces(name, shown):
    assert display_name(name) == shown


@given(st.binary(max_size=40))
def test_display_name_of_any_bytes_is_printable(raw):
    shown = display_name(os.fsdecode(raw))
    assert shown.isprintable() and shown == shown.strip("\n")


def test_every_bad_input_is_one_line_and_nonzero_through_the_real_cli(tmp_path):
    """The same inputs end to end: one line each naming the file, no traceback, exit 1 or 2."""
    causes = _bad_inputs(tmp_path)
    for name, cause in causes.items():
        res = run_cli(str(tmp_path / name), "-m", "tiny.en")
        stderr = res.stderr.decode()
        assert res.returncode in (1, 2), (name, stderr)
        assert stderr.count("\n") == 1, stderr
        assert str(tmp_path / name) in stderr and "Traceback" not in stderr
        # a folder argument is searched for media, so an empty one says that instead
        assert (cause if name != "folder.wav" else "no audio or video files found") in stderr
        assert res.stdout == b""


# --- pipes, devices and stdin: read as streams, bounded ---------------------------------------


class Endless(io.RawIOBase):
    """A source that never ends (/dev/zero, ``yes``): reading it whole would never return."""

    def __init__(self, head: bytes = b"") -> None:
        self._head = head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(buffer)
        data, self._head = (self._head + b"\x00" * size)[:size], self._head[size:]
        buffer[:size] = data
        return size

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("tried to read an endless source whole")
        return super().read(size)

    def readall(self) -> bytes:
        raise AssertionError("tried to read an endless source whole")


def test_dev_zero_is_not_audio_rather_than_empty():
    for decode in (load_audio, lambda p: list(iter_audio(p))):
        with pytest.raises(AudioError) as err:
            decode("/dev/zero")
        assert err.value.cause.startswith("cannot decode audio (not an audio or video file: ")
        assert "empty" not in err.value.cause


def test_an_empty_regular_file_is_still_named_empty(tmp_path):
    path = tmp_path / "nothing.wav"
    path.touch()
    with pytest.raises(AudioError, match=r"empty file \(0 bytes\)"):
        load_audio(path)


def _fifo(tmp_path, data: bytes, name: str = "pipe.wav"):
    """A named pipe that a thread fills with ``data`` once it is opened for reading."""
    path = tmp_path / name
    os.mkfifo(path)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(path, "wb") as pipe:
            pipe.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return path, thread


@pytest.mark.parametrize("sample", ["hello.wav", "lecture.flac"])
def test_a_fifo_is_read_as_a_stream(tmp_path, sample):
    data = (SAMPLES / sample).read_bytes()
    path, thread = _fifo(tmp_path, data)
    assert np.array_equal(load_audio(path), load_audio(SAMPLES / sample))
    thread.join(10)
    path, thread = _fifo(tmp_path, data, "again.wav")
    assert sum(len(b) for b in iter_audio(path)) == len(load_audio(SAMPLES / sample))
    thread.join(10)


def test_a_fifo_of_more_than_the_head_that_is_not_audio(tmp_path):
    path, thread = _fifo(tmp_path, b"this is a log file, not audio\n" * 100_000, "log.wav")
    with pytest.raises(AudioError, match=r"cannot decode audio \(not an audio or video file"):
        load_audio(path)
    thread.join(10)


def test_endless_stdin_that_is_not_audio_is_refused_after_its_head(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    with pytest.raises(AudioError) as err:
        load_audio("-")
    assert str(err.value).startswith("<stdin>: cannot decode audio (not an audio or video file: ")


def test_a_stream_is_held_in_memory_only_up_to_a_bound(monkeypatch):
    import whisper_cli.audio.source as audiosource

    monkeypatch.setattr(audiosource, "MAX_STREAM_BYTES", 8 << 20)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(Endless(b"RIFF"))))
    with pytest.raises(AudioError, match=r"more than 8 MiB from a pipe or device"):
        load_audio("-")
