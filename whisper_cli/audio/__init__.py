"""Audio in: files, pipes and devices decoded to 16 kHz mono float32, whole or block by block."""
