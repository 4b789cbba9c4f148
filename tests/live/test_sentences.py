"""A live window's one-pass segment cut into sentences (live.run.sentences)."""

from __future__ import annotations

from whisper_cli.core.transcript import Segment, Word
from whisper_cli.live.run import sentences


def _segment(*texts: str) -> Segment:
    words = tuple(Word(0.5 * k, 0.5 * k + 0.4, text, 0.9) for k, text in enumerate(texts))
    return Segment(id=3, start=0.0, end=words[-1].end, text="".join(texts), words=words, avg_logprob=-0.3)


def test_cut_after_each_sentence_end_but_not_after_an_abbreviation():
    parts = sentences(_segment(" Mr.", " Quilter", " came.", " Did", " he?", " And", " then"))
    assert [p.text for p in parts] == [" Mr. Quilter came.", " Did he?", " And then"]
    assert [(p.start, p.end) for p in parts] == [(0.0, 1.4), (1.5, 2.4), (2.5, 3.4)]
    assert all(p.avg_logprob == -0.3 and p.id == 3 for p in parts)  # the decode's figures stay


def test_one_sentence_or_no_words_is_left_as_it_is():
    whole = _segment(" Hello", " there.")
    assert sentences(whole) == [whole]
    empty = Segment(id=0, start=0.0, end=1.0, text=" Hello.", words=None)
    assert sentences(empty) == [empty]
