"""Speaker labels on a transcript: words to turns, segments split where the speaker changes (pure)."""

from __future__ import annotations

from whisper_cli.core.transcript import Segment, Word
from whisper_cli.diarize.assign import SpeakerAssigner, TurnIndex, speaker_label
from whisper_cli.diarize.speakers import Turn

TURNS = [Turn(0.0, 2.0, 0), Turn(2.5, 4.0, 1), Turn(6.0, 8.0, 0)]


def _segment(start: float, spans: list[tuple[float, float, str]], index: int = 0) -> Segment:
    words = tuple(Word(a, b, text, 0.9) for a, b, text in spans)
    return Segment(
        id=index,
        start=start,
        end=spans[-1][1] + 0.1,
        text="".join(text for _, _, text in spans),
        tokens=(1, 2, 3),
        avg_logprob=-0.2,
        words=words,
    )


def test_label_is_one_based() -> None:
    assert speaker_label(0) == "SPEAKER_1"
    assert speaker_label(11) == "SPEAKER_12"


def test_a_word_takes_the_turn_it_overlaps_most() -> None:
    index = TurnIndex(TURNS)
    assert index.speaker(0.5, 1.0) == 0
    assert index.speaker(1.8, 2.9) == 1  # 0.2 s in the first turn, 0.4 s in the second
    assert index.speaker(1.5, 2.7) == 0  # 0.5 s against 0.2 s
    assert index.speaker(3.0, 3.0) == 1  # a word of no length inside a turn


def test_a_word_outside_every_turn_takes_the_nearest() -> None:
    index = TurnIndex(TURNS)
    assert index.speaker(4.3, 4.6) == 1  # 0.3 s after the second turn, 1.4 s before the third
    assert index.speaker(5.6, 5.8) == 0  # 0.2 s before the third
    assert index.speaker(9.0, 9.5) == 0  # after the last
    assert index.speaker(-1.0, -0.5) == 0  # before the first


def test_no_turns_no_speaker() -> None:
    assert TurnIndex([]).speaker(0.0, 1.0) is None
    (part,) = SpeakerAssigner([])(_segment(0.0, [(0.1, 0.5, " Hello")]))
    assert part.speaker is None and part.words is not None and part.words[0].speaker is None


def test_a_segment_is_split_where_its_words_change_speaker() -> None:
    segment = _segment(
        0.2,
        [
            (0.3, 0.8, " Yes,"),
            (0.9, 1.6, " indeed."),
            (2.6, 3.0, " No"),
            (3.1, 3.6, " way."),
            (6.2, 6.6, " Why?"),
        ],
    )
    parts = SpeakerAssigner(TURNS)(segment)
    assert [p.speaker for p in parts] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]
    assert [p.text for p in parts] == [" Yes, indeed.", " No way.", " Why?"]
    assert [(p.start, p.end) for p in parts] == [(0.2, 1.6), (2.6, 3.6), (6.2, segment.end)]
    assert [p.id for p in parts] == [0, 1, 2]
    for part in parts:  # every word carries its part's speaker; the rest of the segment is kept
        assert part.words is not None and {w.speaker for w in part.words} == {part.speaker}
        assert part.avg_logprob == -0.2 and part.tokens == ()  # which token is which word is not known


def test_a_segment_of_one_speaker_is_kept_whole() -> None:
    segment = _segment(2.5, [(2.6, 3.0, " No"), (3.1, 3.6, " way.")])
    (part,) = SpeakerAssigner(TURNS)(segment)
    assert part.speaker == "SPEAKER_1"  # numbered by first appearance in the transcript
    assert (part.text, part.start, part.end, part.tokens) == (
        segment.text,
        segment.start,
        segment.end,
        (1, 2, 3),
    )


def test_speakers_are_numbered_by_first_appearance_unless_told_not_to() -> None:
    first = _segment(2.5, [(2.6, 3.0, " No")])
    second = _segment(6.0, [(6.2, 6.6, " Why?")], index=1)
    assign = SpeakerAssigner(TURNS)
    assert [assign(s)[0].speaker for s in (first, second)] == ["SPEAKER_1", "SPEAKER_2"]
    assert assign.labels == ["SPEAKER_1", "SPEAKER_2"]
    channels = SpeakerAssigner(TURNS, renumber=False)  # channels: the number is the channel
    assert [channels(s)[0].speaker for s in (first, second)] == ["SPEAKER_2", "SPEAKER_1"]
    assert channels.labels == ["SPEAKER_1", "SPEAKER_2"]


def test_ids_run_on_across_segments() -> None:
    assign = SpeakerAssigner(TURNS)
    parts = assign(_segment(0.2, [(0.3, 0.8, " Yes."), (2.6, 3.0, " No.")]))
    parts += assign(_segment(6.0, [(6.2, 6.6, " Why?")], index=1))
    assert [p.id for p in parts] == [0, 1, 2]


def test_words_are_dropped_when_not_asked_for() -> None:
    parts = SpeakerAssigner(TURNS, words=False)(_segment(0.2, [(0.3, 0.8, " Yes."), (2.6, 3.0, " No.")]))
    assert [p.speaker for p in parts] == ["SPEAKER_1", "SPEAKER_2"] and all(p.words is None for p in parts)


def test_a_segment_without_words_takes_the_turn_it_overlaps_most() -> None:
    segment = Segment(id=4, start=1.9, end=3.8, text=" Hmm.")
    (part,) = SpeakerAssigner(TURNS)(segment)
    assert (part.speaker, part.text, part.id, part.words) == ("SPEAKER_1", " Hmm.", 0, None)
