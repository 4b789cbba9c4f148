"""WAV headers that misstate the data's length: all of the audio is read, and the one warning says so."""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import SAMPLES, normalise, sample_text, wer
from whisper_cli.audio.load import SAMPLE_RATE, audio_duration, display_name, iter_audio, load_audio

LECTURE_SECONDS = 49.269  # samples/lecture.flac, 16 kHz mono
UNSET = 0xFFFFFFFF


@pytest.fixture(scope="module")
def lecture() -> np.ndarray:
    return load_audio(SAMPLES / "lecture.flac")


@pytest.fixture(scope="module")
def honest_wav(lecture: np.ndarray) -> bytes:
    """lecture.flac as a 16-bit WAV whose header tells the truth."""
    buffer = io.BytesIO()
    sf.write(buffer, lecture, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def claiming(wav: bytes, data_size: int, *, keep: int | None = None) -> bytes:
    """``wav`` with its data chunk's size field set to ``data_size``; ``keep`` bytes of audio kept."""
    at = wav.index(b"data") + 4
    out = bytearray(wav)
    out[at : at + 4] = struct.pack("<I", data_size)
    return bytes(out if keep is None else out[: at + 4 + keep])


def with_list_chunk(wav: bytes) -> bytes:
    """``wav`` followed by a LIST/INFO chunk, as many editors write it; the RIFF size covers it."""
    text = b"whisper-cli test\x00"
    info = b"INFO" + b"ISFT" + struct.pack("<I", len(text)) + text + b"\x00" * (len(text) & 1)
    out = bytearray(wav + b"LIST" + struct.pack("<I", len(info)) + info)
    out[4:8] = struct.pack("<I", len(out) - 8)
    return bytes(out)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("claim", "announced"),
    [(0, "0.0"), (2 * SAMPLE_RATE * 2, "2.0")],
    ids=["zero", "two_seconds"],
)
def test_a_header_claiming_less_reads_all_of_the_audio_and_warns_once(
    tmp_path, caplog, honest_wav, lecture, claim, announced
):
    path = write(tmp_path, "recorder crashed.wav", claiming(honest_wav, claim))
    caplog.set_level(logging.INFO, logger="whisper_cli")
    assert audio_duration(path) == pytest.approx(LECTURE_SECONDS, abs=0.001)
    assert warnings_of(caplog) == []  # deciding how to read it is not yet reading it
    audio = load_audio(path)
    assert np.array_equal(audio, load_audio(write(tmp_path, "honest.wav", honest_wav)))
    assert len(audio) == len(lecture)
    assert warnings_of(caplog) == [
        f"{display_name(path)}: the WAV header announces {announced} s of audio but the file holds 49.3 s;"
        " transcribing all of it"
    ]


def test_the_streaming_path_reads_all_of_it_too(tmp_path, caplog, honest_wav, lecture):
    path = write(tmp_path, "crashed.wav", claiming(honest_wav, 0))
    caplog.set_level(logging.INFO, logger="whisper_cli")
    streamed = np.concatenate(list(iter_audio(path)))
    assert np.array_equal(streamed, load_audio(write(tmp_path, "honest.wav", honest_wav)))
    (warning,) = warnings_of(caplog)
    assert "announces 0.0 s of audio but the file holds 49.3 s; transcribing all of it" in warning


def test_an_unset_size_is_read_to_the_end_without_a_warning(tmp_path, caplog, honest_wav, lecture):
    """0xFFFFFFFF is what a writer that cannot seek back leaves (ffmpeg -f wav to a pipe does, for
    every file): it states no length, so nothing disagrees; -v tells it."""
    data = bytearray(claiming(honest_wav, UNSET))
    data[4:8] = struct.pack("<I", UNSET)
    path = write(tmp_path, "piped.wav", bytes(data))
    caplog.set_level(logging.INFO, logger="whisper_cli")
    assert audio_duration(path) == pytest.approx(LECTURE_SECONDS, abs=0.001)
    assert len(load_audio(path)) == len(lecture)
    assert sum(len(b) for b in iter_audio(path)) == len(lecture)
    assert warnings_of(caplog) == []
    notes = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert notes == [f"{display_name(path)}: the WAV header leaves the length unset; reading all 49.3 s"] * 2


def test_a_truncated_file_gives_what_it_holds_and_says_so(tmp_path, caplog, honest_wav):
    declared = len(honest_wav) - honest_wav.index(b"data") - 8
    path = write(tmp_path, "cut.wav", claiming(honest_wav, declared, keep=20 * SAMPLE_RATE * 2))
    caplog.set_level(logging.INFO, logger="whisper_cli")
    assert audio_duration(path) == pytest.approx(20.0)
    assert warnings_of(caplog) == []
    assert len(load_audio(path)) == 20 * SAMPLE_RATE
    assert warnings_of(caplog) == [
        f"{display_name(path)}: the WAV header announces 49.3 s of audio but the file holds 20.0 s"
        " (truncated?)"
    ]


def test_a_chunk_after_the_data_is_not_read_as_audio(tmp_path, caplog, honest_wav):
    path = write(tmp_path, "tagged.wav", with_list_chunk(honest_wav))
    caplog.set_level(logging.INFO, logger="whisper_cli")
    honest = load_audio(write(tmp_path, "honest.wav", honest_wav))
    assert np.array_equal(load_audio(path), honest)
    assert np.array_equal(np.concatenate(list(iter_audio(path))), honest)
    assert audio_duration(path) == pytest.approx(LECTURE_SECONDS, abs=0.001)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_an_empty_data_chunk_followed_by_metadata_is_empty(tmp_path, caplog, honest_wav):
    from whisper_cli.core.errors import AudioError

    header = claiming(honest_wav, 0, keep=0)
    path = write(tmp_path, "only_tags.wav", with_list_chunk(header))
    with pytest.raises(AudioError, match="contains no audio samples"):
        load_audio(path)
    assert warnings_of(caplog) == []


def test_the_lying_header_reaches_the_model_whole(tmp_path, honest_wav, tiny_transcribe, monkeypatch):
    """The real tiny.en model through the CLI on the zero-size header: the whole lecture comes out."""
    from typer.testing import CliRunner

    from whisper_cli.cli.app import app

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: tiny_transcribe)
    path = write(tmp_path, "crashed.wav", claiming(honest_wav, 0))
    res = CliRunner().invoke(app, ["transcribe", str(path), "-l", "en"], catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    assert "the WAV header announces 0.0 s of audio but the file holds 49.3 s" in res.stderr
    assert wer(sample_text("lecture.flac"), res.stdout) < 0.3, res.stdout
    assert {"historians", "invention"} <= set(normalise(res.stdout).split())  # its last sentence


def test_a_lying_header_on_stdin_is_read_whole(monkeypatch, caplog, honest_wav, lecture):
    """`cat crashed.wav | whisper-cli -`: the same correction on a stream held in memory."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(claiming(honest_wav, 0))))
    assert len(load_audio("-")) == len(lecture)
    assert warnings_of(caplog) == [
        "<stdin>: the WAV header announces 0.0 s of audio but the file holds 49.3 s; transcribing all of it"
    ]


def test_a_long_recording_claiming_nothing_is_measured_long_enough_to_stream(tmp_path):
    """audio_duration decides whether the CLI streams a file (over 30 minutes): a crashed
    40-minute recording must not be taken for an empty one. Sparse: no disk is used."""
    header = claiming(honest_wav_header(), 0)
    path = tmp_path / "forty_minutes.wav"
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + 40 * 60 * SAMPLE_RATE * 2)
    assert audio_duration(path) == pytest.approx(40 * 60)


def honest_wav_header() -> bytes:
    """The 44-byte header of an empty 16 kHz 16-bit mono WAV."""
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(0, np.float32), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


# --- the header walk and the patched view, on made-up bytes --------------------------------------


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def chunk(chunk_id: bytes, payload: bytes, *, size: int | None = None, pad: bool = True) -> bytes:
    declared = len(payload) if size is None else size
    return chunk_id + struct.pack("<I", declared) + payload + (b"\x00" if pad and len(payload) & 1 else b"")


FMT_U8_MONO = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))


@pytest.mark.parametrize("pad", [True, False], ids=["padded", "pad_forgotten"])
def test_an_odd_data_chunk_followed_by_a_chunk_agrees(pad):
    from whisper_cli.audio.wavheader import find_data_chunk

    wav = riff(FMT_U8_MONO, chunk(b"data", b"\x80\x81\x82", pad=pad), chunk(b"id3 ", b"ID3\x04" + bytes(8)))
    found = find_data_chunk(io.BytesIO(wav))
    assert found is not None and found.agrees and found.held == 3


def test_ascii_after_the_declared_end_that_does_not_fit_as_a_chunk_is_audio():
    from whisper_cli.audio.wavheader import find_data_chunk

    audio = b"LIST" + b"\xff\xff\xff\x7f" + bytes(100)  # a chunk id, but a size the file cannot hold
    found = find_data_chunk(io.BytesIO(riff(FMT_U8_MONO, chunk(b"data", audio, size=0))))
    assert found is not None and found.declared == 0 and found.held == len(audio)
    assert found.needs_new_header


@pytest.mark.parametrize(
    "data",
    [b"", b"RIFF", b"RIFF\x00\x00\x00\x00WAVEfmt ", riff(chunk(b"data", b"\x00" * 8)), b"fLaC" + bytes(40)],
    ids=["empty", "cut_in_riff", "cut_in_fmt", "data_without_fmt", "flac"],
)
def test_what_is_not_a_whole_wav_header_is_left_to_the_decoders(data):
    from whisper_cli.audio.wavheader import find_data_chunk

    stream = io.BytesIO(data)
    assert find_data_chunk(stream) is None and stream.tell() == 0


def test_the_patched_view_reads_as_the_corrected_file_in_any_read_sizes():
    from whisper_cli.audio.wavheader import corrected, find_data_chunk

    audio = bytes(range(256)) * 4
    wav = riff(FMT_U8_MONO, chunk(b"data", audio, size=2))
    found = find_data_chunk(io.BytesIO(wav))
    assert found is not None
    expected = bytearray(wav)
    expected[4:8] = struct.pack("<I", len(wav) - 8)
    expected[found.start - 4 : found.start] = struct.pack("<I", len(audio))
    for size in (1, 3, 5, 7, 44, 4096):
        view = corrected(io.BytesIO(wav), found)
        got = b"".join(iter(lambda view=view, size=size: view.read(size), b""))
        assert got == bytes(expected), size
    view = corrected(io.BytesIO(wav), found)
    view.seek(6)
    assert view.read(4) == bytes(expected[6:10])  # a read starting inside a patch
