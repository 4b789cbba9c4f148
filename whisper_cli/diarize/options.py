"""--diarize and the speaker counts checked into DiarizeOptions before anything loads (no numpy here)."""

from __future__ import annotations

from typing import Any

from whisper_cli.core.errors import UsageError
from whisper_cli.core.transcript import DiarizeOptions

MODES = ("auto", "channels")  # --diarize's values; alone, it means auto
_COUNTS = (("--speakers", "speakers"), ("--min-speakers", "min_speakers"), ("--max-speakers", "max_speakers"))


def diarize_options(o: dict[str, Any], inputs: tuple[str, ...]) -> DiarizeOptions | None:
    """The checked speaker settings from the CLI's options (None without --diarize); their
    ``words`` is left for the caller, who knows whether word times were asked for.

    Raises:
        UsageError: a value or combination that cannot be, said in one line.
    """
    mode = o.get("diarize")
    given = [flag for flag, key in _COUNTS if o.get(key) is not None]
    if mode is None:
        if given:
            raise UsageError(f"{', '.join(given)}: only with --diarize (who spoke when)")
        return None
    mode = mode.strip().lower()
    if mode not in MODES:
        raise UsageError(
            f"--diarize {o['diarize']!r}: choose auto (the speaker model) or channels (a stereo call)"
        )
    if o.get("live") or o.get("mic"):
        raise UsageError(
            "--diarize: live diarization is not supported; it works on files, not with --live/--mic"
        )
    speakers, low, high = (o.get(key) for _, key in _COUNTS)
    if mode == "channels":
        if given:
            raise UsageError(f"{', '.join(given)}: not with --diarize channels (one speaker per channel)")
        if "-" in inputs:
            raise UsageError(
                "--diarize channels reads the file again for its two channels: "
                "it cannot take standard input (-); save the stream to a file first"
            )
    if speakers is not None and given != ["--speakers"]:
        raise UsageError("--speakers fixes the count: not with --min-speakers or --max-speakers")
    if low is not None and high is not None and low > high:
        raise UsageError(f"--min-speakers {low} is more than --max-speakers {high}")
    return DiarizeOptions(mode=mode, speakers=speakers, min_speakers=low, max_speakers=high)
