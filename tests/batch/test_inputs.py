"""collect_inputs, read_file_list and plan_outputs: pure path logic, no model, no decoding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from whisper_cli.batch.inputs import collect_inputs, read_file_list
from whisper_cli.batch.outputs import plan_outputs
from whisper_cli.batch.sinks import PARTIAL_PREFIX
from whisper_cli.core.errors import UsageError

RIFF = b"RIFF\x24\x00\x00\x00WAVEfmt "  # enough of a WAV header for the sniffer


def touch(path: Path, data: bytes = b"\x00") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small input tree; the working directory is tmp_path, so paths stay short."""
    monkeypatch.chdir(tmp_path)
    root = Path("media")
    for name in ("b.wav", "a.mp3", "sub/c.flac", "sub/deeper/d.m4a", "other/intro.mp3", "sub/intro.mp3"):
        touch(root / name)
    touch(root / "notes.txt", b"just text")
    touch(root / "photo.jpg", b"\xff\xd8\xff\xe0")
    touch(root / "sub/readme.md", b"# readme")
    touch(root / ".hidden.wav")
    touch(root / f"sub/{PARTIAL_PREFIX}x1.txt")
    touch(root / ".cache/e.wav")
    return root


def sources(collection) -> list[str]:
    return [item.source for item in collection.inputs]


def test_folder_top_level_only_without_recursive(tree: Path):
    found = collect_inputs([str(tree)])
    assert sources(found) == ["media/a.mp3", "media/b.wav"]
    assert found.skipped == 2  # notes.txt, photo.jpg; hidden files are not even counted
    assert found.missing == []


def test_recursive_descends_in_sorted_order_and_counts_other_files(tree: Path):
    found = collect_inputs([str(tree)], recursive=True)
    assert sources(found) == [
        "media/a.mp3",
        "media/b.wav",
        "media/other/intro.mp3",
        "media/sub/c.flac",
        "media/sub/deeper/d.m4a",  # paths sort component by component
        "media/sub/intro.mp3",
    ]
    assert found.skipped == 3  # notes.txt, photo.jpg, sub/readme.md
    # relative names mirror the tree below the folder named on the command line
    assert [str(i.relative) for i in found.inputs][2:4] == ["other/intro.mp3", "sub/c.flac"]


def test_media_recognised_by_content_when_the_extension_says_nothing(tree: Path):
    touch(tree / "recording.dat", RIFF)
    touch(tree / "voice", b"OggS\x00\x02" + b"\x00" * 20)
    touch(tree / "clip.bin", b"\x00\x00\x00\x20ftypM4A ")
    found = collect_inputs([str(tree)])
    assert sources(found) == [
        "media/a.mp3",
        "media/b.wav",
        "media/clip.bin",
        "media/recording.dat",
        "media/voice",
    ]


def test_arguments_keep_their_order_and_duplicates_count_once(tree: Path):
    os.symlink("b.wav", tree / "link.wav")
    found = collect_inputs(["media/sub/c.flac", str(tree), "media/b.wav", "./media/sub/c.flac"])
    # link.wav points at b.wav: the same file, so it is transcribed once
    assert sources(found) == ["media/sub/c.flac", "media/a.mp3", "media/b.wav"]


def test_explicit_file_is_taken_even_when_not_media(tree: Path):
    # named on the command line: the decoder reports why it is not audio
    assert sources(collect_inputs(["media/notes.txt"])) == ["media/notes.txt"]


def test_globs_expand_sorted_and_skip_non_media(tree: Path):
    found = collect_inputs(["media/*"])
    # folders matched by the pattern are taken like folder arguments (top level only)
    assert sources(found) == [
        "media/a.mp3",
        "media/b.wav",
        "media/other/intro.mp3",
        "media/sub/c.flac",
        "media/sub/intro.mp3",
    ]
    assert found.skipped == 3
    deep = collect_inputs(["media/**/*.mp3"], recursive=True)
    assert sources(deep) == ["media/a.mp3", "media/other/intro.mp3", "media/sub/intro.mp3"]


def test_missing_arguments_are_listed(tree: Path):
    found = collect_inputs(["nope.wav", "media/*.ogg", "media/b.wav", "x" * 300 + ".wav"])
    assert [(m.path, m.cause) for m in found.missing] == [
        ("nope.wav", "no such file or directory"),
        ("media/*.ogg", "no such file or directory"),
        ("x" * 300 + ".wav", "file name too long"),  # once a traceback that stopped the run
    ]
    assert sources(found) == ["media/b.wav"]


def test_folder_without_media_finds_nothing_but_is_not_missing(tree: Path):
    Path("empty").mkdir()
    touch(Path("docs/readme.md"), b"# readme")
    found = collect_inputs(["empty", "docs", "media/*.txt"])
    assert found.inputs == [] and found.missing == []
    assert found.skipped == 2  # docs/readme.md, and notes.txt matched by the pattern


def test_stdin_passes_through():
    found = collect_inputs(["-"])
    assert sources(found) == ["-"]
    assert str(found.inputs[0].relative) == "stdin"


def test_read_file_list_keeps_spaces_and_drops_blank_lines():
    lines = ["my talks/day 1.mp3\n", "\n", "  \n", " leading.wav\r\n", "trailing .wav \n", "last.flac"]
    assert read_file_list(lines) == ["my talks/day 1.mp3", " leading.wav", "trailing .wav ", "last.flac"]


def test_plan_mirrors_the_tree_under_the_output_dir(tree: Path):
    found = collect_inputs([str(tree)], recursive=True)
    plan = plan_outputs(found.inputs, ("txt", "srt"), Path("out"))
    names = {item.source: {fmt: str(path) for fmt, path in targets.items()} for item, targets in plan.items()}
    assert names["media/sub/deeper/d.m4a"] == {"txt": "out/sub/deeper/d.txt", "srt": "out/sub/deeper/d.srt"}
    # two intro.mp3 in different folders: different outputs
    assert names["media/other/intro.mp3"]["txt"] == "out/other/intro.txt"
    assert names["media/sub/intro.mp3"]["txt"] == "out/sub/intro.txt"


def test_plan_without_output_dir_writes_beside_each_input(tree: Path):
    found = collect_inputs([str(tree)], recursive=True)
    plan = plan_outputs(found.inputs, ("vtt",), None)
    assert {str(targets["vtt"]) for targets in plan.values()} == {
        "media/a.vtt",
        "media/b.vtt",
        "media/other/intro.vtt",
        "media/sub/c.vtt",
        "media/sub/intro.vtt",
        "media/sub/deeper/d.vtt",
    }


def test_output_names_depend_on_the_input_and_its_argument_alone(tree: Path):
    """A file argument gives its name, a folder the path below it, a glob the path below its
    fixed folder, a --from-file line the path as written: adding inputs never moves one."""
    alone = collect_inputs(["media/sub/c.flac"])
    assert [str(i.relative) for i in alone.inputs] == ["c.flac"]
    more = collect_inputs(["media/sub/c.flac", "media/b.wav", "media/sub"], recursive=True)
    assert [str(i.relative) for i in more.inputs] == ["c.flac", "b.wav", "deeper/d.m4a", "intro.mp3"]
    globbed = collect_inputs(["media/*/intro.mp3"])
    assert [str(i.relative) for i in globbed.inputs] == ["other/intro.mp3", "sub/intro.mp3"]
    listed = collect_inputs([], listed=["media/sub/c.flac", "./media/b.wav", "/abs/x.wav", "../up.wav"])
    assert [str(i.relative) for i in listed.inputs] == ["media/sub/c.flac", "media/b.wav"]
    assert [m.path for m in listed.missing] == ["/abs/x.wav", "../up.wav"]
    touch(Path("../up.wav"))
    assert [str(i.relative) for i in collect_inputs([], listed=["../up.wav"]).inputs] == ["up.wav"]
    folder_line = collect_inputs([], listed=["media/sub"])
    assert [str(i.relative) for i in folder_line.inputs] == ["media/sub/c.flac", "media/sub/intro.mp3"]


def test_files_of_one_name_from_two_folders_collide(tree: Path):
    found = collect_inputs(["media/other/intro.mp3", "media/sub/intro.mp3"])
    with pytest.raises(UsageError, match=r"would both be written to out/intro\.txt"):
        plan_outputs(found.inputs, ("txt",), Path("out"))
    listed = collect_inputs([], listed=["media/other/intro.mp3", "media/sub/intro.mp3"])
    plan = plan_outputs(listed.inputs, ("txt",), Path("out"))
    assert [str(t["txt"]) for t in plan.values()] == ["out/media/other/intro.txt", "out/media/sub/intro.txt"]


def test_fifos_and_devices_in_folders_are_counted_never_opened(tree: Path):
    os.mkfifo(tree / "zpipe.wav")  # opening it would block until a writer came: forever
    os.mkfifo(tree / "pipe")  # no extension: would be sniffed
    found = collect_inputs([str(tree)])
    assert sources(found) == ["media/a.mp3", "media/b.wav"]
    assert found.special == 2
    assert sources(collect_inputs(["media/*.wav"])) == ["media/b.wav"]
    assert sources(collect_inputs(["media/zpipe.wav"])) == ["media/zpipe.wav"]  # named: read as a stream


def test_recursive_follows_linked_folders_once(tree: Path):
    os.symlink("../other", tree / "sub" / "linked")
    os.symlink(".", tree / "sub" / "loop")
    found = collect_inputs([str(tree / "sub")], recursive=True)
    assert sources(found) == [
        "media/sub/c.flac",
        "media/sub/deeper/d.m4a",
        "media/sub/intro.mp3",
        # other/intro.mp3 is a different file from sub/intro.mp3: reached through the link
        "media/sub/linked/intro.mp3",
    ]


def test_same_stem_in_one_folder_keeps_the_extension(tree: Path):
    touch(tree / "sub/intro.wav")
    found = collect_inputs(["media/sub"])
    plan = plan_outputs(found.inputs, ("txt",), Path("out"))
    assert sorted(str(t["txt"]) for t in plan.values()) == [
        "out/c.txt",
        "out/intro.mp3.txt",
        "out/intro.wav.txt",
    ]


def test_unresolvable_collision_is_a_usage_error(tree: Path):
    touch(tree / "sub/intro.wav")
    touch(tree / "sub/intro.mp3.flac")  # "keep the extension" gives intro.mp3.txt twice
    found = collect_inputs(["media/sub"])
    with pytest.raises(UsageError, match="would both be written to"):
        plan_outputs(found.inputs, ("txt",), Path("out"))


def test_output_never_replaces_an_input(tree: Path):
    touch(tree / "talk.txt", RIFF)  # audio under a transcript's name
    found = collect_inputs(["media/talk.txt", "media/b.wav"])
    with pytest.raises(UsageError, match="would replace an input"):
        plan_outputs(found.inputs, ("txt",), None)
    assert plan_outputs(found.inputs, ("txt",), Path("out"))  # elsewhere it is fine
