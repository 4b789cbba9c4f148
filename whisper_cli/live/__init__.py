"""Live transcription of a stream that never ends: its source, buffer, commit policy and microphone."""
