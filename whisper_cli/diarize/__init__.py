"""Speaker diarization: who spoke when, offline, with numpy and onnxruntime only."""
