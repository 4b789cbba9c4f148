"""Decoding options from the command line's values: language names, token ids, the temperature ladder."""

from __future__ import annotations

import logging
from typing import Any

from whisper_cli.core.errors import UsageError
from whisper_cli.core.languages import close_matches, language_code
from whisper_cli.core.transcript import DecodeOptions, Task

log = logging.getLogger(__name__)

TEMPERATURE_STEP = 0.2  # openai-whisper's --temperature_increment_on_fallback
_DEFAULT = DecodeOptions()


def decode_options(o: dict[str, Any]) -> DecodeOptions:
    """The command line's decoding values (a dict of its parameters) checked into DecodeOptions.

    Raises:
        UsageError: a bad value, said in one line.
    """
    language = _language(o["language"])
    word_timestamps = o["word_timestamps"]
    silences = o.get("hallucination_silence_threshold")
    for flag, wanted in (
        ("--highlight-words", o["highlight_words"]),
        ("--tsv-words", o["tsv_words"]),
        ("--hallucination-silence-threshold", silences is not None),
    ):
        if wanted and not word_timestamps:
            log.info("%s needs word times: --word-timestamps turned on", flag)
            word_timestamps = True
    start = float(o["temperature"])
    ladder = [start]
    while ladder[-1] + TEMPERATURE_STEP <= 1.0 + 1e-9:
        ladder.append(round(ladder[-1] + TEMPERATURE_STEP, 2))
    return DecodeOptions(
        language=language,
        task=Task(_value(o["task"])),
        beam_size=_beam_size(o),
        temperature=tuple(ladder),
        initial_prompt=o["initial_prompt"],
        vad=o["vad"],
        level=o["level"],
        word_timestamps=word_timestamps,
        batch_size=o["batch_size"],
        condition_on_previous_text=o.get("condition_on_previous_text", _DEFAULT.condition_on_previous_text),
        best_of=o.get("best_of", _DEFAULT.best_of),
        patience=o.get("patience", _DEFAULT.patience),
        length_penalty=o.get("length_penalty", _DEFAULT.length_penalty),
        hotwords=o.get("hotwords") or None,
        no_speech_threshold=o.get("no_speech_threshold", _DEFAULT.no_speech_threshold),
        hallucination_silence_threshold=silences,
        suppress_tokens=_token_ids(o.get("suppress_tokens", "-1")),
    )


def check_model_language(model: str, decode: DecodeOptions) -> None:
    """An English-only model (``*.en``) asked to translate or for another language: a usage error."""
    if not model.endswith(".en"):
        return
    if decode.task is Task.translate:
        raise UsageError(
            f"{model} is English-only and cannot translate; use a multilingual model such as base"
        )
    if decode.language not in (None, "en"):
        raise UsageError(
            f"{model} is English-only: --language {decode.language} needs a multilingual model such as base"
        )


def _beam_size(o: dict[str, Any]) -> int:
    """--beam-size when given, else 5 (a live run's drafts: settings.LiveSettings)."""
    return _DEFAULT.beam_size if o.get("beam_size") is None else int(o["beam_size"])


def _language(given: str | None) -> str | None:
    """A code from a code or an English name (openai-whisper takes both); None: detect."""
    if given is None or given.strip().lower() in ("auto", "detect", ""):
        return None
    code = language_code(given)
    if code is None:
        near = close_matches(given)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise UsageError(
            f"unknown language {given!r}{hint}; use a code such as en, de, fr "
            "or an English name such as German"
        )
    return code


def _token_ids(given: str) -> tuple[int, ...]:
    """--suppress-tokens: comma-separated token ids (-1: the model's set of symbols; empty: none)."""
    try:
        return tuple(int(part) for part in given.split(",") if part.strip())
    except ValueError:
        message = f"--suppress-tokens {given!r}: give token ids separated by commas, e.g. -1,50363"
        raise UsageError(message) from None


def _value(choice: Any) -> str:
    return str(getattr(choice, "value", choice))
