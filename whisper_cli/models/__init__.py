"""Whisper models: which one a name means, the Hub cache, downloads, and the models that ship in packages."""
