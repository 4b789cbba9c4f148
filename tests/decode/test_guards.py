"""Hallucination guards: the loop and phantom logic on scripted segment streams, then the
real tiny.en model on audio that provokes invented text."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import SAMPLES, sample_text, wer
from whisper_cli.audio.load import SAMPLE_RATE, load_audio
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo, Word
from whisper_cli.decode.guards import (
    MAX_REPEATS,
    drop_impossible_repeats,
    drop_phantoms,
    drop_repetition_loops,
    guard,
    is_phantom,
    normalise,
    repeated_ngram,
)

LOOP = " the next one," * 40


@pytest.fixture(scope="module")
def raw_transcribe(tiny_model_path):
    """tiny.en with neither guards nor levelling: get_whisper() applies both itself."""
    from whisper_cli.decode.adapter import make_transcribe
    from whisper_cli.decode.whisper import ModelSpec, load_model

    return make_transcribe(load_model(ModelSpec(tiny_model_path, "cpu", "int8", 0, 1)))


def seg(
    start: float, text: str, *, end: float | None = None, nsp: float = 0.1, lp: float = -0.3, words=None
) -> Segment:
    return Segment(
        id=0,
        start=start,
        end=start + 1.5 if end is None else end,
        text=text,
        no_speech_prob=nsp,
        avg_logprob=lp,
        words=words,
    )


class Scripted:
    """A TranscribeFn: the first call streams ``first``, later calls ``again``; calls are recorded."""

    def __init__(self, first: list[Segment], again: list[Segment] | None = None) -> None:
        self.passes = [first, again or []]
        self.calls: list[tuple[int, DecodeOptions]] = []
        self.pulled = 0  # segments taken from the first pass so far
        self.closed = False

    def __call__(self, audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        self.calls.append((len(audio), options))
        script = self.passes[min(len(self.calls) - 1, 1)]
        return TranscriptInfo("en", 0.9, len(audio) / SAMPLE_RATE), self._stream(script, len(self.calls) == 1)

    def _stream(self, script: list[Segment], first: bool) -> Iterator[Segment]:
        try:
            for segment in script:
                if first:
                    self.pulled += 1
                yield segment
        finally:
            if first:
                self.closed = True


AUDIO = np.zeros(60 * SAMPLE_RATE, np.float32)


def texts(segments) -> list[str]:
    return [s.text.strip() for s in segments]


# --- pure logic ------------------------------------------------------------------------------


def test_normalise_ignores_case_punctuation_and_spacing():
    assert normalise("  Thank you!! ") == normalise("thank   YOU.") == "thank you"
    assert normalise("♪ ♪") == normalise("...") == ""
    assert normalise("C-c-c") == "c c c"


@pytest.mark.parametrize(
    ("text", "loop"),
    [
        (LOOP, True),
        (" Ooh," * 30, True),
        (" C-c-c-c-c-c-c-c-c-c-c-c-c-c-c-c-c-c-c-c", True),
        (" So, I'm going to do" + " a little bit of" * 20, True),
        (" Hello and welcome. This is a short recording made to test speech recognition.", False),
        (" No, no, no, no, no!", False),  # said, not looped: five times
        (" Very, very, very, very good, and then" + " more words" * 2 + " to round it off.", False),
        ("", False),
    ],
)
def test_repeated_ngram(text, loop):
    assert repeated_ngram(text) is loop


def test_phantoms_are_dropped_only_when_the_model_doubts_the_window():
    stream = [
        seg(0, " You", nsp=0.95),  # silence: dropped
        seg(2, " Thank you.", nsp=0.2),  # said: kept
        seg(4, " Thanks for watching!", nsp=0.85),  # dropped
        seg(6, " Hello there.", nsp=0.99),  # not a stock phrase: kept
        seg(8, " ♪", nsp=0.9),  # symbols only: dropped
    ]
    assert texts(drop_phantoms(stream)) == ["Thank you.", "Hello there."]
    assert not is_phantom(seg(0, " So", nsp=0.53))  # a spoken "So." measured at 0.53


def test_drop_repetition_loops_drops_looped_segments_but_keeps_repeated_ones():
    stream = [seg(0, " Go!"), seg(2, " Go!"), seg(4, " Go!"), seg(6, " Go!"), seg(8, " Go!"), seg(10, LOOP)]
    assert texts(drop_repetition_loops(stream)) == ["Go!"] * 5


def test_drop_impossible_repeats_keeps_plausible_repeats():
    said = [seg(4.0 * i, " Please speak slowly and clearly.", end=4.0 * i + 3) for i in range(6)]
    looped = [seg(60 + i, " I've been in the next video,", end=61 + i) for i in range(6)]  # 6 words/s
    past_end = [seg(70 + 2 * i, " Okay.", end=71 + 2 * i) for i in range(6)]  # the audio ends at 75 s
    out = texts(drop_impossible_repeats([*said, *looped, *past_end], duration=75))
    assert out == texts(said) + texts(looped[:3]) + texts(past_end[:3])


# --- the guard around a transcribe function ------------------------------------------------------


def test_a_segment_repeated_more_than_max_repeats_times_is_decoded_again_without_conditioning():
    first = [seg(0, " Hello."), seg(2, " Stuck here."), *(seg(4 + 2 * i, " Stuck here!") for i in range(20))]
    again = [seg(0.5, " The real words."), seg(3, " And more.")]
    model = Scripted(first, again)
    out = list(guard(model)(AUDIO, DecodeOptions(language=None))[1])
    assert texts(out) == ["Hello.", "Stuck here.", "The real words.", "And more."]
    loop_start = 4.0  # the second "stuck here": the first one is kept
    assert [s.start for s in out[2:]] == [loop_start + 0.5, loop_start + 3]
    assert [s.id for s in out] == [0, 1, 2, 3]
    (_, first_options), (length, options) = model.calls
    assert first_options.condition_on_previous_text
    assert not options.condition_on_previous_text and options.language == "en"
    assert length == len(AUDIO) - loop_start * SAMPLE_RATE
    assert model.closed and model.pulled == 2 + MAX_REPEATS  # stopped at the loop


def test_max_repeats_in_a_row_is_not_a_loop():
    first = [seg(0, " Yes."), seg(2, " Yes."), seg(4, " Yes."), seg(6, " No.")]
    model = Scripted(first)
    assert texts(guard(model)(AUDIO, DecodeOptions())[1]) == ["Yes.", "Yes.", "Yes.", "No."]
    assert len(model.calls) == 1


def test_an_ngram_loop_in_a_segment_is_decoded_again_and_dropped_if_it_persists():
    first = [seg(0, " Real words."), seg(30, LOOP, end=60)]
    model = Scripted(first, [seg(0, LOOP, end=30)])
    out = list(guard(model)(AUDIO, DecodeOptions())[1])
    assert texts(out) == ["Real words."]
    assert model.calls[1][0] == 30 * SAMPLE_RATE


def test_a_real_repetition_survives_the_second_decode():
    first = [seg(2 * i, " Please speak slowly.") for i in range(8)]
    again = [seg(2 * i, " Please speak slowly.") for i in range(7)]
    model = Scripted(first, again)
    out = list(guard(model)(AUDIO, DecodeOptions())[1])
    assert texts(out) == ["Please speak slowly."] * 8
    assert [s.start for s in out] == [2.0 * i for i in range(8)]


def test_the_stream_is_passed_on_as_it_comes():
    first = [seg(0, " One."), seg(2, " One."), seg(4, " Two."), seg(6, " Three.")]
    model = Scripted(first)
    segments = guard(model)(AUDIO, DecodeOptions())[1]
    assert next(segments).text == " One." and model.pulled == 1
    assert next(segments).text == " One." and model.pulled == 3  # the repeat waited for "Two."
    assert next(segments).text == " Two." and model.pulled == 3


def test_unconditioned_decoding_is_never_repeated():
    for options in (DecodeOptions(condition_on_previous_text=False), DecodeOptions(batch_size=8)):
        first = [seg(2 * i, " Again.") for i in range(6)] + [seg(12, LOOP)]
        model = Scripted(first)
        assert texts(guard(model)(AUDIO, options)[1]) == ["Again."] * 6
        assert len(model.calls) == 1


def test_word_times_and_seek_are_shifted_after_a_second_decode():
    words = (Word(0.6, 0.9, " The"), Word(0.9, 1.2, " end"))
    first = [seg(0, " A."), *(seg(10 + i, " B.") for i in range(5))]
    model = Scripted(first, [replace(seg(0.5, " The end.", words=words), seek=50)])
    out = list(guard(model)(AUDIO, DecodeOptions(word_timestamps=True))[1])
    last = out[-1]
    assert (last.start, last.end) == (11.5, 13.0)
    assert [(w.start, w.end) for w in last.words] == [(11.6, 11.9), (11.9, 12.2)]
    assert last.seek == 50 + 1100


# --- the real tiny.en model ------------------------------------------------------------------------


def test_silence_without_vad_gives_no_words_when_guarded(raw_transcribe):
    silence = np.zeros(30 * SAMPLE_RATE, np.float32)
    options = DecodeOptions(language="en", vad=False)
    raw = " ".join(s.text for s in raw_transcribe(silence, options)[1])
    guarded = " ".join(s.text for s in guard(raw_transcribe)(silence, options)[1])
    assert normalise(raw) == "you"  # the model's stock phrase on silence (measured)
    assert guarded == ""


def test_a_long_file_does_not_end_in_a_loop(raw_transcribe):
    """The lecture's last 30 s, then 45 s of reversed speech; no VAD, no temperature
    fallback: after the speech tiny.en writes one invented sentence again and again,
    conditioned on itself (measured: 10 times in a row). Guarded, the loop is decoded
    again without conditioning, and the one-phrase-over-and-over segment that gives is
    dropped, and so is the second pass's own loop: the same clause every second, on past
    the end of the audio. The speech before it is passed on untouched."""
    lecture = load_audio(SAMPLES / "lecture.flac")[-30 * SAMPLE_RATE :]
    audio = np.concatenate([lecture, np.tile(lecture[::-1], 2)[: 45 * SAMPLE_RATE]])
    passes: list[list[Segment]] = []

    def recorded(samples: np.ndarray, options: DecodeOptions):
        info, segments = raw_transcribe(samples, options)
        passes.append([])
        return info, (passes[-1].append(s) or s for s in segments)

    options = DecodeOptions(language="en", vad=False, temperature=(0.0,))
    guarded = list(guard(recorded)(audio, options)[1])
    first_pass = passes[0]  # what the engine gave until the guard stopped it
    assert len(passes) == 2 and _looped(first_pass) > 0
    assert _looped(guarded) == 0
    speech = [s for s in guarded if s.start < 30]
    assert speech == [s for s in first_pass if s.start < 30]
    assert {"historians", "printing", "invention"} <= set(normalise(" ".join(s.text for s in speech)).split())


def _looped(segments: list[Segment]) -> int:
    """Segments that are one phrase over and over, or the 4th identical one in a row."""
    keys = [normalise(s.text) for s in segments]
    return sum(
        repeated_ngram(s.text) or (i >= MAX_REPEATS and len(set(keys[i - MAX_REPEATS : i + 1])) == 1)
        for i, s in enumerate(segments)
    )


def test_a_loop_in_real_speech_is_recovered_by_decoding_again(raw_transcribe):
    """The engine is made to loop after 20 s of lecture.flac; the guard's second, unconditioned
    decode of the real audio from there gives the rest of the lecture."""
    audio = load_audio(SAMPLES / "lecture.flac")
    calls = []

    def stuck_after_20_s(samples: np.ndarray, options: DecodeOptions):
        calls.append(options)
        info, segments = raw_transcribe(samples, options)
        if len(calls) > 1:
            return info, segments

        def looping() -> Iterator[Segment]:
            for segment in segments:
                yield segment
                if segment.end > 20:
                    for k in range(1, 30):
                        yield replace(segment, start=segment.end + k, end=segment.end + k + 1)
                    return

        return info, looping()

    out = list(guard(stuck_after_20_s)(audio, DecodeOptions(language="en"))[1])
    assert len(calls) == 2 and not calls[1].condition_on_previous_text
    text = " ".join(s.text for s in out)
    assert wer(sample_text("lecture.flac"), text) < 0.2, text
    assert all(a.start <= b.start for a, b in itertools.pairwise(out))
    assert out[-1].end == pytest.approx(len(audio) / SAMPLE_RATE, abs=3)


def test_speech_passes_the_guard_unchanged(raw_transcribe):
    audio = load_audio(SAMPLES / "hello.wav")
    options = DecodeOptions(language="en")
    raw = [(s.start, s.end, s.text) for s in raw_transcribe(audio, options)[1]]
    guarded = [(s.start, s.end, s.text) for s in guard(raw_transcribe)(audio, options)[1]]
    assert guarded == raw


def test_get_whisper_applies_the_guard(tiny_transcribe):
    """The transcribe function the CLI uses is guarded: silence without VAD stays empty."""
    silence = np.zeros(30 * SAMPLE_RATE, np.float32)
    assert [s.text for s in tiny_transcribe(silence, DecodeOptions(language="en", vad=False))[1]] == []
