"""The duplicate counter of benchmarks/bench_live.py on hand-made transcripts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from live_measure import duplicated_passages, duplicates

SENTENCE = "Before printing, every book was copied by hand in a monastery."
OTHER = "The press changed that within fifty years, and books became cheap."


def test_a_sentence_printed_twice_is_one_passage():
    live = f"{SENTENCE} {SENTENCE} {OTHER}"
    # 11 words: 6 distinct 6-grams repeat, as one passage
    assert duplicates(live, f"{SENTENCE} {OTHER}") == (6, 1)


def test_case_and_punctuation_do_not_hide_a_copy():
    live = f"{SENTENCE} {SENTENCE.upper().replace(',', '').replace('.', '!')} {OTHER}"
    assert duplicates(live, f"{SENTENCE} {OTHER}") == (6, 1)


def test_a_phrase_the_offline_run_repeats_is_not_a_duplicate():
    text = f"{SENTENCE} {OTHER} {SENTENCE}"
    assert duplicates(text, text) == (0, 0)
    # one copy more than offline is
    assert duplicates(f"{text} {SENTENCE}", text) == (6, 1)


def test_misheard_words_and_short_repeats_are_not_duplicates():
    assert duplicates("every book was copied by hand in a church", SENTENCE) == (0, 0)
    assert duplicates("by hand by hand by hand", "by hand") == (0, 0)  # under 6 words


def test_two_separate_copies_are_two_passages():
    live = f"{SENTENCE} {SENTENCE} {OTHER} {OTHER}"
    assert duplicates(live, f"{SENTENCE} {OTHER}") == (6 + 6, 2)


def test_the_copies_are_named():
    live = f"{SENTENCE} {OTHER} {OTHER}"
    assert duplicated_passages(live, f"{SENTENCE} {OTHER}") == [
        "the press changed that within fifty years and books became cheap"
    ]
