"""Who spoke when in one recording: speech found by VAD, voices embedded, embeddings clustered."""

from __future__ import annotations

from whisper_cli.diarize.turns import SpeakerCount, Turn

__all__ = ["SpeakerCount", "Turn"]
