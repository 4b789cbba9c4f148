"""Data at the library's edge: words, segments, transcript info and decoding options.

Everything here is frozen: a stage that wants a different segment makes one with
``dataclasses.replace`` instead of editing what it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its time span in seconds (from the model's word alignment)."""

    start: float
    end: float
    word: str  # as the model wrote it, usually with its leading space
    probability: float = 1.0
    speaker: str | None = None  # SPEAKER_1, SPEAKER_2, … with --diarize; None otherwise


@dataclass(frozen=True, slots=True)
class Segment:
    """One decoded segment; field names follow openai-whisper's JSON output."""

    id: int
    start: float
    end: float
    text: str  # as the model wrote it, usually with a leading space
    seek: int = 0
    tokens: tuple[int, ...] = ()
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    words: tuple[Word, ...] | None = None  # None unless word timestamps were asked for
    speaker: str | None = None  # SPEAKER_1, SPEAKER_2, … with --diarize; None otherwise


def retimed(
    segment: Segment,
    start: Callable[[float], float],
    end: Callable[[float], float] | None = None,
    **changes: Any,
) -> Segment:
    """The segment with ``start`` applied to its and its words' start times and ``end``
    (default: ``start``) to their end times; other fields changed as ``changes`` say."""
    end = end or start
    words = segment.words
    if words is not None:
        words = tuple(replace(w, start=start(w.start), end=end(w.end)) for w in words)
    return replace(segment, start=start(segment.start), end=end(segment.end), words=words, **changes)


@dataclass(frozen=True, slots=True)
class TranscriptInfo:
    """What is known before the first segment: language and durations."""

    language: str
    language_probability: float
    duration: float  # seconds of input audio
    duration_after_vad: float | None = None


class Task(str, Enum):
    """What the model does with the speech."""

    transcribe = "transcribe"
    translate = "translate"  # type: ignore[assignment]  # shadows str.translate: the task's name


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How to decode one input; the defaults are the CLI's defaults."""

    language: str | None = None  # None: detect from the first 30 s
    task: Task = Task.transcribe
    beam_size: int = 5
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback ladder
    initial_prompt: str | None = None
    vad: bool = True  # skip non-speech: the main guard against invented words on silence
    level: bool = True  # bring every speech region to one loudness first (loudness.py)
    word_timestamps: bool = False
    condition_on_previous_text: bool = True
    # Passed straight to faster-whisper (its defaults), under openai-whisper's names.
    best_of: int = 5  # candidates sampled at a temperature above 0
    patience: float = 1.0
    length_penalty: float = 1.0
    hotwords: str | None = None
    no_speech_threshold: float = 0.6  # also the clip checks' (decode/crossfile.py)
    hallucination_silence_threshold: float | None = None  # seconds; needs word timestamps
    suppress_tokens: tuple[int, ...] = (-1,)  # -1: the model's set of symbols
    batch_size: int = (
        0  # 0 or 1: sequential decoding; >1: batched (VAD chunks of a file, short files together)
    )
    max_new_tokens: int | None = None  # per 30 s window; None: the model's limit (live caps it)
    # Audio of at most 30 s decoded in one pass: text without timestamp tokens, and no second
    # pass over the words after the last timestamp (live: the next window sees them again).
    one_window: bool = False


@dataclass(frozen=True, slots=True)
class DiarizeOptions:
    """Who spoke when (--diarize): how turns are found, and how many speakers to look for."""

    mode: str = "auto"  # auto: the speaker model; channels: a stereo call, one speaker per channel
    speakers: int | None = None  # --speakers N: exactly N
    min_speakers: int | None = None
    max_speakers: int | None = None
    words: bool = False  # whether word times are wanted in the output (they are decoded either way)


class TranscribeFn(Protocol):
    """What ``get_whisper`` returns: 16 kHz mono float32 audio in, info and lazy segments out."""

    def __call__(
        self, audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]: ...


class ClipsFn(Protocol):
    """Several short recordings (each at most a 30 s window) decoded together, in batches:
    one (info, segments) per clip, in order, times relative to each clip."""

    def __call__(
        self, clips: list[np.ndarray], options: DecodeOptions
    ) -> list[tuple[TranscriptInfo, list[Segment]]]: ...
