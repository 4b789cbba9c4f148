"""Tests of speaker diarization (whisper_cli.diarize)."""
