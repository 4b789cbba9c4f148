"""When live text becomes final: at a pause, by agreement of successive decodes, or at the window's cap.

Pure code: no audio, no model, no clock. The live pipeline (run.py) decodes a window of
the stream, from ``State.start`` to the newest audio, and hands ``step`` the words it got
(in stream seconds, grouped by the model's segments) and the speech regions the VAD found
in the window. ``step`` says which words are now committed (final: they are printed once
and never taken back) and where the next window starts.

Three rules, after whisper_streaming's LocalAgreement (Macháček et al. 2023), with the
voice activity on the audio as an endpoint detector in front:

1. **Pause.** Words that end before a pause of ``pause`` seconds (speech, then silence
   the VAD confirms) are committed at once: the speaker finished them, and the model saw
   the silence after them. The next window starts in that silence.
2. **Agreement.** In speech with no pause yet, the words two successive decodes agree on,
   from the first uncommitted word on, are committed (LocalAgreement-2): a longer window
   rarely changes words both shorter ones already had. A decode's last word that ends
   within ``edge`` seconds of the window's end waits: the audio may stop inside it, and
   two decodes of "goldsmith" cut short both hear "gold".
3. **Cap.** A window never grows past ``max_window``: at the cap, every word that ends
   ``margin`` seconds before the window's end is committed even without agreement.
   ``hurry`` (the decoder is behind real time) applies that rule at every step, so each
   stretch of audio is decoded about once and the decoder catches up.

Words already committed are told apart from new ones by time (a word is new when its
middle lies after the last committed word's end) and then by text, whatever their times
say: a decode may say a committed sentence again in the silence after it, timed after
it. A decode whose new words start with the last committed words (a word on the
window's edge, within a second; three words or more, anywhere) has them dropped, and so
has any passage of PASSAGE_WORDS words or more, anywhere in the decode, that is in the
last TAIL_WORDS committed words or earlier in the same decode (the model repeating a
sentence in the silence after it, twice, after the next one), as
has a word that overlaps the last committed one and completes it ("goldsmith" after a
committed "gold"): what is printed cannot be taken back, and a word twice is worse than
a word cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from whisper_cli.core.transcript import Segment, Word
from whisper_cli.decode.guards import normalise

TAIL_WORDS = 48  # committed words kept to recognise a repeat of them (about 15 s of speech)
EDGE_WORDS = 3  # the last committed words said again this many at once: a repeat, whatever the times
PASSAGE_WORDS = 5  # an earlier committed passage said again: a repeat (anaphora this long is rare)


@dataclass(frozen=True, slots=True)
class Policy:
    """Tunables, in seconds."""

    pause: float = 0.5  # silence after speech that ends an utterance
    max_window: float = 12.0  # the longest window decoded while keeping up
    trim_after: float = 8.0  # past this, the window restarts after committed words at a sentence end
    margin: float = 1.0  # at the cap or in a hurry, words ending this close to the window's end wait
    # Agreement counts only in windows at least this long: tiny models agree with themselves
    # on wrong words in the first seconds of an utterance ("Most" for "Books"). On the
    # 227 s eval file at 2x (bench_live.py): WER 8.5 % at 2.0 s, 8.3 % at 2.5 s, 6.8 % at
    # 3.0 s (offline 6.4 %), for a median word latency of 1.84, 1.77 and 1.95 s.
    min_context: float = 3.0
    edge: float = 0.3  # a decode's last word ending this close to the window's end may be cut


@dataclass(frozen=True, slots=True)
class Window:
    """One decoded stretch of the stream, in stream seconds."""

    start: float
    end: float
    regions: tuple[tuple[float, float], ...]  # speech found by the VAD in [start, end]
    final: bool = False  # the stream ended (or was stopped): commit everything
    hurry: bool = False  # the decoder is behind real time


@dataclass(frozen=True, slots=True)
class State:
    """What the policy remembers between windows."""

    start: float = 0.0  # where the next window starts
    committed_end: float = 0.0  # end of the last committed word
    previous: tuple[str, ...] = ()  # the last decode's uncommitted words, normalised
    tail: tuple[str, ...] = ()  # the last committed words, normalised


@dataclass(frozen=True, slots=True)
class Decision:
    """What one window gave: segments to print now, the rest of the hypothesis, the next state."""

    state: State
    commit: tuple[Segment, ...]
    pending: tuple[Word, ...]


def step(state: State, window: Window, segments: list[Segment], policy: Policy = Policy()) -> Decision:
    """Decide what of this window's decode is final, and where the next window starts."""
    fresh = _fresh(state, segments)
    ended = _last_pause(window, policy.pause)
    if window.final:
        count = len(fresh)
    else:
        agreed = _agreed(state.previous, fresh) if window.end - window.start >= policy.min_context else 0
        if agreed == len(fresh) and agreed and fresh[-1][1].end > window.end - policy.edge:
            agreed -= 1  # the last word may be cut by the window's end
        count = max(_closed(fresh, ended), agreed)
        if _capped(window, policy):
            count = max(count, _ending_before(fresh, window.end - policy.margin))
    committed, rest = fresh[:count], fresh[count:]
    start = _next_start(state, window, committed, rest, ended, policy)
    tail = (*state.tail, *(normalise(w.word) for _, w in committed))[-TAIL_WORDS:]
    new_state = State(
        start=start,
        committed_end=committed[-1][1].end if committed else state.committed_end,
        previous=tuple(normalise(w.word) for _, w in rest),
        tail=tail,
    )
    return Decision(new_state, _grouped(committed, segments), tuple(w for _, w in rest))


def at_once(window: Window, policy: Policy = Policy()) -> bool:
    """Whether words of this window's decode may be committed without a second decode's
    agreement: at a pause in its speech, at the cap, in a hurry, or at the stream's end."""
    return not seen_again(window, policy) or _last_pause(window, policy.pause) is not None


def seen_again(window: Window, policy: Policy = Policy()) -> bool:
    """Whether the next window holds this one's audio too: not the stream's end, not capped."""
    return not (window.final or _capped(window, policy))


def _capped(window: Window, policy: Policy) -> bool:
    """Whether the cap rule applies: the window is at its longest, or the decoder is behind."""
    return window.hurry or window.end - window.start >= policy.max_window


def _fresh(state: State, segments: list[Segment]) -> list[tuple[int, Word]]:
    """The decode's words (with their segment's index) not committed before, nor said twice."""
    after = state.committed_end
    words = [(i, w) for i, s in enumerate(segments) for w in s.words or () if (w.start + w.end) / 2 > after]
    texts = [normalise(w.word) for _, w in words]
    if words and state.tail and _completes(state.tail[-1], texts[0], words[0][1], state.committed_end):
        words, texts = words[1:], texts[1:]
    at = _edge_repeat(state, texts, words)
    said, kept = list(state.tail), []
    while at < len(words):
        size = _passage(said, texts[at:])
        if size >= PASSAGE_WORDS:  # said before, or earlier in this decode: the model repeating itself
            at += size
            continue
        kept.append(words[at])
        said.append(texts[at])
        at += 1
    return kept


def _edge_repeat(state: State, texts: list[str], words: list[tuple[int, Word]]) -> int:
    """How many of the leading new words say the last committed words again (0: none)."""
    tail = state.tail
    for size in range(min(len(tail), len(texts)), 0, -1):
        if tuple(texts[:size]) == tail[-size:] and (
            size >= EDGE_WORDS or words[size - 1][1].start < state.committed_end + 1.0
        ):
            return size  # the window's edge, or the last sentence said twice
    return 0


def _passage(said: list[str], texts: list[str]) -> int:
    """The most leading words of ``texts`` found together anywhere in ``said``."""
    best = 0
    for at in range(len(said)):
        size = 0
        while size < len(texts) and at + size < len(said) and said[at + size] == texts[size] and texts[size]:
            size += 1
        best = max(best, size)
    return best


def _completes(last: str, text: str, word: Word, committed_end: float) -> bool:
    """Whether ``word`` is the whole of the last committed word, which was cut short."""
    return word.start < committed_end and len(text) > len(last) > 0 and text.startswith(last)


def _last_pause(window: Window, pause: float) -> float | None:
    """The end of the last speech region followed by at least ``pause`` s of silence."""
    pairs = zip(window.regions, window.regions[1:], strict=False)
    ends = [end for (_, end), (nxt, _) in pairs if nxt - end >= pause]
    if window.regions and window.end - window.regions[-1][1] >= pause:
        ends.append(window.regions[-1][1])
    return max(ends) if ends else None


def _closed(words: list[tuple[int, Word]], pause_at: float | None) -> int:
    """How many leading words end before the pause (a little slack: VAD and word times differ)."""
    if pause_at is None:
        return 0
    return _ending_before(words, pause_at + 0.3)


def _ending_before(words: list[tuple[int, Word]], limit: float) -> int:
    count = 0
    for _, word in words:
        if word.end > limit:
            break
        count += 1
    return count


def _agreed(previous: tuple[str, ...], words: list[tuple[int, Word]]) -> int:
    """Length of the common prefix of the last decode's uncommitted words and this one's."""
    count = 0
    for before, (_, word) in zip(previous, words, strict=False):
        if not before or before != normalise(word.word):
            break
        count += 1
    return count


def _next_start(
    state: State,
    window: Window,
    committed: list[tuple[int, Word]],
    rest: list[tuple[int, Word]],
    ended: float | None,
    policy: Policy,
) -> float:
    """Where the next window starts: in the last pause, after a sentence, or at the cap;
    never before a word that is not committed."""
    if window.final:
        return window.end
    if not window.regions:  # no speech: keep a little of it, in case a word is starting
        return max(state.start, window.end - policy.pause)
    starts = [state.start]
    if ended is not None and (not rest or rest[0][1].start > ended):  # all said before the pause is committed
        limit = rest[0][1].start if rest else window.end
        starts.append(min(ended + policy.pause / 2, limit))
    long = window.end - window.start
    capped = _capped(window, policy)
    if committed and capped:  # decode no more than needed: cut after the last committed word
        starts.append(_outside_speech(_between(committed[-1][1], rest), window, rest))
    elif committed and long >= policy.trim_after and (cut := _sentence_cut(committed, rest)) is not None:
        starts.append(_outside_speech(cut, window, rest))  # a sentence end: the model reads on from there
    elif capped:  # nothing committed at the cap or in a hurry (noise, or only repeats): move on
        starts.append(window.end - (policy.margin if window.hurry else policy.max_window / 2))
    return max(starts)


def _outside_speech(cut: float, window: Window, rest: list[tuple[int, Word]]) -> float:
    """``cut`` moved to the end of the speech region it falls in, when no uncommitted word
    starts before that end: word times are approximate, and a window that starts on the tail
    of a committed word hears it as a word of its own ("Hello." for the end of "microphone")."""
    for begin, end in window.regions:
        if begin <= cut < end and (not rest or rest[0][1].start >= end):
            return min(end, window.end)
    return cut


def _sentence_cut(committed: list[tuple[int, Word]], rest: list[tuple[int, Word]]) -> float | None:
    """After the last committed word that ends a sentence, if any: the model reads on best from there."""
    for k in range(len(committed) - 1, -1, -1):
        if committed[k][1].word.rstrip().endswith((".", "?", "!")):
            following = committed[k + 1 :] + rest
            return _between(committed[k][1], following)
    return None


def _between(word: Word, following: list[tuple[int, Word]]) -> float:
    """The middle of the gap after ``word`` (word times are approximate; a middle cuts neither)."""
    if not following:
        return word.end
    return max(word.end, (word.end + following[0][1].start) / 2)


def _grouped(committed: list[tuple[int, Word]], segments: list[Segment]) -> tuple[Segment, ...]:
    """The committed words as segments, split where the model's segments were."""
    groups: list[tuple[int, list[Word]]] = []
    for index, word in committed:
        if groups and groups[-1][0] == index:
            groups[-1][1].append(word)
        else:
            groups.append((index, [word]))
    return tuple(
        replace(
            segments[index],
            start=words[0].start,
            end=words[-1].end,
            text="".join(w.word for w in words),
            words=tuple(words),
            tokens=(),
        )
        for index, words in groups
    )
