"""AtomicFileSink: a temp file beside the target, renamed on commit, removed on discard."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from whisper_cli.batch import sinks
from whisper_cli.batch.sinks import PARTIAL_PREFIX, AtomicFileSink


def test_commit_renames_into_place_and_discard_leaves_the_old_file(tmp_path: Path):
    target = tmp_path / "sub" / "talk.srt"
    sink = AtomicFileSink(target)
    sink.open().write("first\n")
    sink.commit()
    assert target.read_text() == "first\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~sinks._UMASK

    again = AtomicFileSink(target)
    again.open().write("half")
    again.discard()
    assert target.read_text() == "first\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["talk.srt"]


def test_an_interrupt_just_after_the_temp_file_is_created_leaves_nothing(tmp_path, monkeypatch):
    """SIGTERM lands between the file's creation and the sink learning its name (seen in CI)."""
    real_open = os.open

    def open_then_interrupted(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    sink = AtomicFileSink(tmp_path / "talk.txt")
    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        sink.open()
    monkeypatch.undo()
    sink.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_taken_temp_name_is_left_alone_and_another_is_drawn(tmp_path, monkeypatch):
    taken = tmp_path / f"{PARTIAL_PREFIX}aaaa.txt"
    taken.write_text("another run's")
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(sinks.secrets, "token_hex", lambda n: next(names))
    sink = AtomicFileSink(tmp_path / "talk.txt")
    sink.open().write("mine")
    sink.discard()
    assert [p.name for p in tmp_path.iterdir()] == [taken.name]
    assert taken.read_text() == "another run's"
