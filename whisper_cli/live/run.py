"""Live transcription: a stream read by one thread, decoded window by window by the main one.

The reader thread (livebuffer.fill) puts the stream's audio into a bounded buffer and
never waits for the decoder. The main thread takes a window from the last commit point
to the newest audio, finds its speech (Silero, as files), decodes it with the same
levelling, VAD and guards as files, and lets the commit policy (commit.py) say what is
final. Final text goes to stdout once, at once, in the chosen format; the rest may be
shown on a terminal's stderr. Ctrl-C or SIGTERM: no more audio is taken, what was
received is decoded and printed, and the run exits 130.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from whisper_cli.core import signals, streams
from whisper_cli.core.errors import ExitCode, UsageError
from whisper_cli.core.transcript import DecodeOptions, Segment, Word, retimed
from whisper_cli.decode.loudness import speech_regions
from whisper_cli.decode.thresholds import falls_back, silent
from whisper_cli.decode.whisper import Whisper, get_whisper
from whisper_cli.live.buffer import AudioBuffer, fill
from whisper_cli.live.commit import Decision, Policy, State, Window, at_once, seen_again, step
from whisper_cli.live.output import LiveOutput
from whisper_cli.settings import RunSettings
from whisper_cli.writers.txt import ends_sentence

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_HELD = 120.0  # s of audio held at most: past that the decoder is hopelessly behind, the oldest goes
MIN_STEP = 0.5  # s of new audio before the next decode: less only costs CPU
# The decoder waits for at least its recent decode time / DUTY of new audio, so it is busy
# at most this share of the time and has room for a slow window. On the long eval file
# (tiny.en, 2 cores, 120 s at 1x) a fixed 0.5 s step kept it busy 88 % of the time (1.28
# CPU s per audio s; word latency median 1.64 s, p95 3.34 s), 0.75 s 72 % (1.03; 1.79 s,
# 3.39 s) and 1 s 59 % (0.84; 2.11 s, 3.53 s). A slower model or machine gets longer
# steps instead of falling behind. With one encoder pass per window (one_window), the
# whole 227.6 s file at 1x: 0.7 gave median 2.84 s, p95 4.26 s; 0.85 (and edge 0.3)
# 1.91 s, 3.26 s, with the same WER against offline (5.4 %) and 1.11 CPU s per audio s.
DUTY = 0.85
RECENT = 5  # decodes whose median time sets the step
BEHIND = 4.0  # s of audio waiting beyond the window: the decoder is behind, and hurries
# While hurrying, windows this long: a word early in a window waits for the whole window,
# so long windows put their length on top of the lag (a 30-minute run's p95 was 19 s
# with 12 s windows); each window is decoded about once, at a fixed encoder cost.
HURRY_WINDOW = 6.0
CAUGHT_UP = 1.5  # s: back to partial hypotheses
# Speech regions shorter than this are clicks or the tail of a sound at the window's edge: decoded
# alone they come back as invented words ("Hello." after a recording ended in silence).
MIN_REGION = 0.2  # s
PROMPT_WORDS = 40  # committed words before the window given to the model as context
# A window's decode may write at most this many tokens per second of audio (plus a few):
# speech is 3-5 a second. Without a cap, a decode that falls into a loop ("the the the …")
# writes to the model's limit, some 400 tokens, and then again at each fallback
# temperature: 2.5-6.6 s for one window of the long eval file where 0.6 s is usual, and
# the stream fell behind by as much.
TOKENS_PER_SECOND = 10
TOKEN_SLACK = 24
MAX_NEW_TOKENS = 200  # with the longest prompt faster-whisper keeps (223), under the model's 448


def run_live(settings: RunSettings) -> int:
    """Transcribe stdin or the microphone as it arrives; return the exit code."""
    assert settings.live is not None
    blocks, name = _source(settings)
    buffer = AudioBuffer(int(MAX_HELD * SAMPLE_RATE))
    threading.Thread(target=fill, args=(buffer, blocks), name="whisper-cli-reader", daemon=True).start()
    spec = settings.model
    whisper = get_whisper(spec.model, spec.compute_type, spec.device, spec.cpu_threads, workers=1)
    output = LiveOutput(settings, name)
    decoder = LiveDecoder(
        whisper, settings.decode, buffer, output, draft_beam_size=settings.live.draft_beam_size
    )
    try:
        try:
            with signals.armed():
                decoder.run()
        except KeyboardInterrupt:
            buffer.close()  # what was received is decoded; a second signal is ignored meanwhile
            decoder.run()
            output.finish(decoder.language)
            return int(signals.exit_code(signals.received()))
        output.finish(decoder.language)
    except BrokenPipeError:  # the reader of stdout went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.FAILED)
    if buffer.error is not None:
        raise buffer.error
    return int(ExitCode.OK)


def _source(settings: RunSettings) -> tuple[Iterator[np.ndarray], str]:
    live = settings.live
    assert live is not None
    if streams.is_closed("stdout"):
        raise UsageError("standard output is closed: nothing can take the transcript")
    if live.mic:
        from whisper_cli.live.mic import NAME, mic_blocks

        return mic_blocks(live.mic_device), NAME
    if streams.is_closed("stdin"):
        raise UsageError("-: standard input is closed; there is no audio to read")
    from whisper_cli.live.source import NAME as STDIN_NAME
    from whisper_cli.live.source import live_blocks

    return live_blocks(live.raw), STDIN_NAME


def token_budget(seconds: float) -> int:
    """The most tokens a decode of ``seconds`` of audio may write."""
    return min(MAX_NEW_TOKENS, int(TOKENS_PER_SECOND * seconds) + TOKEN_SLACK)


def sentences(segment: Segment) -> list[Segment]:
    """The segment cut after each word that ends a sentence: a window decoded in one pass is
    one segment, and what is printed is grouped by segment (a JSONL line, a cue)."""
    words = segment.words or ()
    cuts = [k + 1 for k, w in enumerate(words[:-1]) if ends_sentence(w.word)]
    if not cuts:
        return [segment]
    parts = [words[a:b] for a, b in zip([0, *cuts], [*cuts, len(words)], strict=True)]
    return [
        replace(segment, start=p[0].start, end=p[-1].end, text="".join(w.word for w in p), words=p, tokens=())
        for p in parts
    ]


def _failed(segment: Segment, no_speech_threshold: float) -> bool:
    """Whether the engine would have tried the next temperature for this segment's decode."""
    quiet = silent(segment.avg_logprob, segment.no_speech_prob, no_speech_threshold)
    return falls_back(segment.avg_logprob, segment.compression_ratio) and not quiet


class LiveDecoder:
    """The main thread's loop: windows of the buffer decoded, the policy's decisions printed."""

    def __init__(
        self,
        whisper: Whisper,
        options: DecodeOptions,
        buffer: AudioBuffer,
        output: LiveOutput,
        policy: Policy | None = None,
        draft_beam_size: int | None = None,  # None: options.beam_size
    ) -> None:
        self.whisper, self.options, self.buffer, self.output, self.policy = (
            whisper,
            options,
            buffer,
            output,
            policy or Policy(),
        )
        self.draft_beam_size = draft_beam_size or options.beam_size
        self.language = options.language
        self.state = State()
        self.decoded_to = 0.0  # stream seconds: the end of the last window decoded
        self.behind = False
        self.dropped = 0
        self.said: deque[Word] = deque(maxlen=PROMPT_WORDS)  # committed words, for the prompt
        self.took: deque[float] = deque(maxlen=RECENT)  # wall s of the last decodes

    def run(self) -> None:
        """Decode until the stream is closed and every sample received is committed."""
        while True:
            start = max(self.state.start, self.buffer.base / SAMPLE_RATE)
            wanted = max(self.decoded_to, start) + self.step()
            end, closed = self.buffer.wait(int(wanted * SAMPLE_RATE))
            available = end / SAMPLE_RATE
            if available < wanted and not closed:
                continue
            self._note_drops(start)
            if closed and available - start < 0.01:
                self._decide(Window(start, available, (), final=True), [])
                return
            self._pace(available - min(available, start + self.policy.max_window))
            stop = min(available, start + (HURRY_WINDOW if self.behind else self.policy.max_window))
            final = closed and stop >= available
            self._window(start, stop, final)
            if final:
                return

    def step(self) -> float:
        """Seconds of new audio to wait for before the next decode."""
        if not self.took:
            return MIN_STEP
        return max(MIN_STEP, statistics.median(self.took) / DUTY)

    def _window(self, start: float, stop: float, final: bool) -> None:
        audio = self.buffer.read(round(start * SAMPLE_RATE), round(stop * SAMPLE_RATE))
        regions = tuple(
            (start + a / SAMPLE_RATE, start + b / SAMPLE_RATE)
            for a, b in speech_regions(audio)
            if b - a >= MIN_REGION * SAMPLE_RATE
        )
        log.debug("live window %.2f-%.2f s%s, speech %s", start, stop, " (final)" * final, regions)
        window = Window(start, stop, regions, final=final, hurry=self.behind)
        again = seen_again(window, self.policy)
        beam = self.options.beam_size if at_once(window, self.policy) else self.draft_beam_size
        segments = self._decode(audio, start, again, beam) if regions else []
        if segments is None:  # a failed decode of audio the next window holds too: decide nothing
            log.debug("live window %.2f-%.2f s failed at one temperature; decoded again next", start, stop)
        else:
            self._decide(window, segments)
        self.decoded_to = stop
        self.buffer.release(int(self.state.start * SAMPLE_RATE))

    def _decode(self, audio: np.ndarray, start: float, again: bool, beam: int) -> list[Segment] | None:
        """The window's segments in stream time, searched ``beam`` wide; None when ``again`` (the
        next window holds this audio too) and the decode failed the fallback thresholds at the
        first temperature."""
        prompt = "".join(w.word for w in self.said if w.end <= start + 0.01).strip()
        given = self.options.initial_prompt
        options = replace(
            self.options,
            language=self.language,
            word_timestamps=True,
            initial_prompt=" ".join(p for p in (given, prompt) if p) or None,
            max_new_tokens=token_budget(len(audio) / SAMPLE_RATE),
            # One encoder pass: the engine would decode the words after its last timestamp
            # again in a second 30 s pass (2-3 passes per window; 5.98 s median latency on
            # the long eval file where one pass gives 2.84 s), and the next window has them.
            one_window=True,
            # Text the next decode sees again gets one temperature: a failed decode is tried
            # again on a longer window at the next step, not at five more temperatures now
            # (1-3 s where 0.6 s is usual, the stalls that put a stream behind).
            temperature=self.options.temperature[:1] if again else self.options.temperature,
            # A draft (no word of it committed before the next decode agrees) is searched
            # narrower (LiveSettings.draft_beam_size); a window that commits at once gets the beam.
            beam_size=beam,
        )
        began = time.monotonic()
        info, segments = self.whisper(audio, options)
        found = [part for s in segments for part in sentences(retimed(s, lambda t: t + start))]
        self.took.append(time.monotonic() - began)
        if self.language is None and any(s.text.strip() for s in found):
            self.language = info.language  # detected once, from the first speech, then kept
            log.info(
                "language: %s (%.0f %%), kept for the stream", info.language, 100 * info.language_probability
            )
        if again and any(_failed(s, self.options.no_speech_threshold) for s in found):
            return None
        return found

    def _decide(self, window: Window, segments: list[Segment]) -> None:
        decision: Decision = step(self.state, window, segments, self.policy)
        self.state = decision.state
        for segment in decision.commit:
            self.said.extend(segment.words or ())
        self.output.commit(decision.commit, self.language)
        self.output.pending(() if self.behind or window.final else decision.pending)

    def _pace(self, waiting: float) -> None:
        """Say when the decoder falls behind real time, and when it has caught up."""
        if not self.behind and waiting > BEHIND:
            self.behind = True
            log.warning("live: %.0f s behind real time; catching up (no partial text meanwhile)", waiting)
        elif self.behind and waiting < CAUGHT_UP:
            self.behind = False
            log.info("live: caught up with real time")

    def _note_drops(self, start: float) -> None:
        if self.buffer.dropped > self.dropped:
            lost = (self.buffer.dropped - self.dropped) / SAMPLE_RATE
            self.dropped = self.buffer.dropped
            log.warning("live: over %.0f s behind: %.1f s of audio dropped untranscribed", MAX_HELD, lost)
            if start > self.state.start:
                self.state = replace(self.state, start=start, previous=())
