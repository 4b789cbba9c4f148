"""``python -m whisper_cli``."""

from whisper_cli.cli import main

if __name__ == "__main__":
    main()
