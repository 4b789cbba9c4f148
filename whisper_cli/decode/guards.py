"""Guards against invented text: repetition loops and the model's stock non-speech phrases.

Whisper conditions each 30 s window on the text of the one before. Once it writes the
same sentence twice it tends to keep doing so, for minutes, whatever the audio says;
decoding the same audio again *without* that conditioning usually breaks the loop
(https://github.com/openai/whisper/discussions/679). On silence, hum and music it also
writes a few stock phrases ("You", "Thank you.", "Thanks for watching!") learnt from
subtitles; those are dropped only when the model itself says the window is probably not
speech, so a spoken "thank you" stays.

``guard(transcribe)`` wraps a TranscribeFn with both checks and keeps it streaming: a
segment is passed on as soon as it arrives, except repeats of the text just passed on,
which wait (at most ``max_repeats`` - 1 of them) until the run ends or proves a loop.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo
from whisper_cli.decode.parallel import shift

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz: the audio a TranscribeFn receives
FRAMES_PER_SECOND = 100  # Segment.seek counts 10 ms mel frames
MAX_REPEATS = 3  # a segment text may come this many times in a row; one more is a loop
NGRAM_REPEATS = 8  # inside one segment, a phrase said more often in a row is a loop
MAX_WORDS_PER_SECOND = 5.0  # faster than fast speech (2-4 words/s): a repeat this dense is invented
# Texts the model writes on non-speech (normalised: lower case, no punctuation).
PHANTOM_TEXTS = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for listening",
        "thank you for listening",
        "please subscribe",
        "please subscribe to my channel",
        "subscribe",
        "like and subscribe",
        "bye",
        "bye bye",
        "the end",
        "so",
        "oh",
        "uh",
        "um",
        "hmm",
        "music",
        "applause",
        "silence",
        "blank audio",
        "",  # "...", "♪", "-": punctuation or symbols only
    }
)
# A phantom text is dropped when the model's "not speech" probability for its window is at
# least this. Measured with tiny.en (docs/robustness.md): on silence, hum and tones the
# stock phrases came at 0.83-0.98; the same phrases spoken (espeak-ng) at 0.16-0.56.
PHANTOM_NO_SPEECH_PROB = 0.7

_NON_WORD = re.compile(r"[^\w\s']+|_")


def normalise(text: str) -> str:
    """Lower case, punctuation and symbols dropped, spaces collapsed: the key for repeats."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).replace("'", "").split())


def is_phantom(segment: Segment) -> bool:
    """True for a stock non-speech phrase in a window the model itself doubts is speech."""
    if normalise(segment.text) not in PHANTOM_TEXTS:
        return False
    return segment.no_speech_prob >= PHANTOM_NO_SPEECH_PROB


def drop_phantoms(segments: Iterable[Segment]) -> Iterator[Segment]:
    """``segments`` without ``is_phantom`` ones (streaming)."""
    for segment in segments:
        if is_phantom(segment):
            log.debug("dropped %r at %.1f s: a non-speech phrase", segment.text, segment.start)
        else:
            yield segment


def repeated_ngram(text: str, *, max_repeats: int = NGRAM_REPEATS) -> bool:
    """True when one n-gram, said more than ``max_repeats`` times in a row, fills half of ``text``.

    "the next one, the next one, …" (60 times) is; a sentence that says a word twice is not.
    """
    words = normalise(text).split()
    for n in range(1, len(words) // (max_repeats + 1) + 1):
        for start in range(n):
            run = _longest_run(words, n, start)
            if run > max_repeats and 2 * run * n >= len(words):
                return True
    return False


def _longest_run(words: list[str], n: int, start: int) -> int:
    """The most consecutive equal n-grams in ``words``, n-grams taken from ``start`` on."""
    grams = [tuple(words[i : i + n]) for i in range(start, len(words) - n + 1, n)]
    return max((sum(1 for _ in group) for _, group in itertools.groupby(grams)), default=0)


def drop_repetition_loops(
    segments: Iterable[Segment], *, max_repeats: int = NGRAM_REPEATS
) -> Iterator[Segment]:
    """``segments`` without those that are mostly one phrase repeated (streaming).

    Such a segment spans a whole window with text the audio does not hold; what it
    covers is rarely more than the loop. Repeated *segments* are kept: a speaker may
    well say one sentence several times, each with its own timing.
    """
    for segment in segments:
        if repeated_ngram(segment.text, max_repeats=max_repeats):
            # info, not warning: the guard does not know the input's name, and a batch's
            # stderr must not carry lines that name no file
            log.info(
                "dropped a repetition loop at %.1f-%.1f s: %.60r…", segment.start, segment.end, segment.text
            )
        else:
            yield segment


def drop_impossible_repeats(
    segments: Iterable[Segment], *, duration: float, max_repeats: int = MAX_REPEATS
) -> Iterator[Segment]:
    """Pass ``segments`` on, except repeats that cannot be speech: the same text as the
    ``max_repeats`` segments before it *and* either denser than MAX_WORDS_PER_SECOND or
    ending after the audio (``duration`` seconds) does. Streaming.

    Whisper's timestamp loops look like that: " I've been in the next video," every second,
    on past the end of the file. A speaker who says one sentence again and again keeps
    every repeat.
    """
    last, count = None, 0
    for segment in segments:
        key = normalise(segment.text)
        count = count + 1 if key == last else 1
        last = key
        if count > max_repeats and _impossible(segment, duration):
            log.debug("dropped repeat %d of %r at %.1f s", count, segment.text, segment.start)
            continue
        yield segment


def _impossible(segment: Segment, duration: float) -> bool:
    words = len(normalise(segment.text).split())
    span = max(segment.end - segment.start, 0.01)
    return segment.end > duration + 1.0 or words > MAX_WORDS_PER_SECOND * span


def guard(transcribe: TranscribeFn, *, max_repeats: int = MAX_REPEATS) -> TranscribeFn:
    """Wrap ``transcribe``: drop phantom phrases, and break repetition loops by re-decoding.

    When a segment text comes more than ``max_repeats`` times in a row, or one segment is
    a single phrase said over and over, the rest of the audio is decoded again from the
    loop's start with ``condition_on_previous_text=False``. In that second pass (and when
    decoding was never conditioned) a segment that is still one phrase over and over is
    dropped, and so are repeats that cannot be speech (``drop_impossible_repeats``);
    plausible repeated segments are kept.
    """

    def guarded(audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        info, segments = transcribe(audio, options)

        duration = len(audio) / SAMPLE_RATE

        def redecode(offset: float) -> Iterator[Segment]:
            again = replace(options, language=info.language, condition_on_previous_text=False)
            return transcribe(audio[round(offset * SAMPLE_RATE) :], again)[1]

        conditioned = options.condition_on_previous_text and options.batch_size <= 1
        return info, _stream(
            segments, redecode, duration=duration, conditioned=conditioned, max_repeats=max_repeats
        )

    return guarded


def _stream(
    segments: Iterator[Segment],
    redecode: Callable[[float], Iterator[Segment]],
    *,
    duration: float,
    conditioned: bool,
    max_repeats: int,
) -> Iterator[Segment]:
    """The guarded stream: renumbered, and shifted to the whole audio's times after a re-decode."""
    ids = itertools.count()
    if not conditioned:
        yield from _numbered(_unconditioned(segments, duration, max_repeats), 0.0, ids)
        return
    loop_at = yield from _numbered(_until_loop(drop_phantoms(segments), max_repeats=max_repeats), 0.0, ids)
    if loop_at is None:
        return
    _close(segments)
    log.info("repetition loop at %.1f s: decoding again from there without the previous text", loop_at)
    again = _unconditioned(redecode(loop_at), duration - loop_at, max_repeats)
    yield from _numbered(again, loop_at, ids)


def _unconditioned(segments: Iterable[Segment], duration: float, max_repeats: int) -> Iterator[Segment]:
    """What is left to do when decoding again cannot help: drop what cannot be speech."""
    segments = drop_repetition_loops(drop_phantoms(segments))
    return drop_impossible_repeats(segments, duration=duration, max_repeats=max_repeats)


def _numbered(segments: Iterator[Segment], offset: float, ids: Iterator[int]):  # type: ignore[no-untyped-def]
    """Yield ``segments`` shifted by ``offset`` and renumbered; return what their generator returned."""
    while True:
        try:
            segment = next(segments)
        except StopIteration as end:
            return end.value
        yield shift(segment, offset, next(ids), round(offset * FRAMES_PER_SECOND))


def _until_loop(segments: Iterable[Segment], *, max_repeats: int):  # type: ignore[no-untyped-def]
    """Yield segments up to a loop; return the loop's start time, or None if there is none."""
    held: list[Segment] = []  # repeats of the text last yielded, not yet yielded
    last: str | None = None
    for segment in segments:
        key = normalise(segment.text)
        if key == last:
            held.append(segment)
            if len(held) >= max_repeats:
                return held[0].start
            continue
        if repeated_ngram(segment.text):
            return (held[0] if held else segment).start
        yield from held
        held.clear()
        last = key
        yield segment
    yield from held
    return None


def _close(segments: Iterator[Segment]) -> None:
    close = getattr(segments, "close", None)
    if close is not None:
        close()  # stop the engine's generator: the rest of this pass is not needed
