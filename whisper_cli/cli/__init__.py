"""The command line: options, the transcribe and models commands, shell completion, one run's session."""
