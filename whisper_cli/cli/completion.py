"""Shell completion (bash, zsh, fish): Typer's own, reached only when a shell or the user asks for it.

A normal run calls the transcribe command directly (cli.main), so Typer's completion
options, which live on the group, cost `--help` nothing. `--install-completion` and
`--show-completion` and the shell's completion requests (`_WHISPER_CLI_COMPLETE` set) go
through the group with those options added; a command line that names no command is
completed as `transcribe`, as it runs.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence

import typer

COMPLETE_VAR = "_WHISPER_CLI_COMPLETE"
FLAGS = ("--install-completion", "--show-completion")
DEFAULT = "transcribe"


def requested(argv: Sequence[str]) -> bool:
    """Whether this process is a completion request or an install/show of the script."""
    return COMPLETE_VAR in os.environ or (bool(argv) and argv[0].split("=", 1)[0] in FLAGS)


def run(app: typer.Typer, commands: Sequence[str]) -> int | str | None:
    """Answer the request through the group; return its exit status."""
    _complete_as_default(commands)
    group = typer.main.get_command(app)
    group.params.extend(typer.main.get_install_completion_arguments())
    try:
        group.main(args=sys.argv[1:], prog_name="whisper-cli")
    except SystemExit as exc:
        return exc.code
    return 0


def _complete_as_default(commands: Sequence[str]) -> None:
    """Put ``transcribe`` into the words being completed when they name no command."""
    if "COMP_WORDS" in os.environ:  # bash: the words, and the index of the one completed
        words = _split(os.environ["COMP_WORDS"])
        index = int(os.environ.get("COMP_CWORD", len(words) - 1))
        current = words[index] if index < len(words) else ""
        if _names_no_command(words[1:index], current, commands):
            words.insert(1, DEFAULT)
            os.environ["COMP_WORDS"] = " ".join(shlex.quote(w) for w in words)
            os.environ["COMP_CWORD"] = str(index + 1)
    elif "_TYPER_COMPLETE_ARGS" in os.environ:  # zsh, fish, PowerShell: the whole line so far
        line = os.environ["_TYPER_COMPLETE_ARGS"]
        words = _split(line)
        done, current = (words[1:], "") if line.endswith(" ") else (words[1:-1], words[-1] if words else "")
        if len(words) > 0 and _names_no_command(done, current, commands):
            head, _, rest = line.partition(" ")
            os.environ["_TYPER_COMPLETE_ARGS"] = f"{head} {DEFAULT} {rest}"


def _names_no_command(done: Sequence[str], current: str, commands: Sequence[str]) -> bool:
    """Whether the words before the cursor (``done``) and the one at it complete as ``transcribe``:
    the first word is not a command, or it is still being typed and is an option."""
    if done:
        return done[0] not in commands and done[0] not in FLAGS
    group_flag = len(current) > 2 and any(flag.startswith(current) for flag in FLAGS)
    return current.startswith("-") and not group_flag


def _split(line: str) -> list[str]:
    """The words of a command line as the shell would split them; an open quote ends the last."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:  # a quote still open: the word being typed
        words.append(lexer.token)
    return words
