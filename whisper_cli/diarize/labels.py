"""One recording's speakers found in a thread of its own while it is transcribed, and its
segments labelled as they come (held back only until the turns are known)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from whisper_cli.core.transcript import DiarizeOptions, Segment
from whisper_cli.diarize.assign import SpeakerAssigner
from whisper_cli.diarize.speakers import SpeakerCount, Turn

SAMPLE_RATE = 16_000
BLOCK_SECONDS = 30.0  # audio handed to the diarizer at a time, from a recording held whole
CHANNEL_SECONDS = 60.0  # stereo audio read at a time for --diarize channels (bounded memory)
_JOIN_GAP = 0.1  # s: a channel turn cut at a block's edge is joined to the next block's

Finder = Callable[[np.ndarray | None, str, str], list[Turn]]  # (audio, source, name) -> turns


def speaker_count(options: DiarizeOptions) -> SpeakerCount:
    """The engine's count from the CLI's --speakers, --min-speakers and --max-speakers."""
    if options.speakers is not None:
        return SpeakerCount(exact=options.speakers)
    return SpeakerCount(minimum=options.min_speakers or 1, maximum=options.max_speakers)


class Labeller:
    """Starts finding the turns of one recording at once; ``label`` then labels its segments.

    ``audio``: the recording as transcribed (16 kHz mono), or None when it is too long to hold
    (it is then read again from ``source``, block by block). Channels are always read from
    ``source``: the transcript's audio is a mix. ``name`` names it in errors.
    """

    def __init__(self, options: DiarizeOptions, audio: np.ndarray | None, source: str, name: str) -> None:
        self._options = options
        self.seen: set[str] = set()  # the labels of the non-blank segments given out so far
        self._turns: list[Turn] | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        target = self._channels if options.mode == "channels" else self._model
        self._thread = threading.Thread(
            target=self._run, args=(target, audio, source, name), name="whisper-cli-speakers", daemon=True
        )
        self._thread.start()

    def label(self, segments: Iterable[Segment]) -> Iterator[Segment]:
        """The segments labelled and split at changes of speaker, in order; those decoded
        before the turns are known wait for them."""
        held: list[Segment] = []
        assign: SpeakerAssigner | None = None
        for segment in segments:
            if assign is None and self._done.is_set():
                assign = self._assigner()
            if assign is None:
                held.append(segment)
                continue
            for each in (*held, segment):
                yield from self._noted(assign(each))
            held.clear()
        assign = assign or self._assigner()
        for each in held:
            yield from self._noted(assign(each))

    def _noted(self, parts: list[Segment]) -> list[Segment]:
        self.seen.update(p.speaker for p in parts if p.speaker is not None and p.text.strip())
        return parts

    def _assigner(self) -> SpeakerAssigner:
        self._done.wait()
        if self._error is not None:
            raise self._error
        renumber = self._options.mode != "channels"  # a channel's speaker is its channel: 1 left, 2 right
        return SpeakerAssigner(self._turns or [], renumber=renumber, words=self._options.words)

    def _run(self, target: Finder, audio: np.ndarray | None, source: str, name: str) -> None:
        try:
            self._turns = target(audio, source, name)
        except BaseException as exc:  # handed to the thread that writes the transcript
            self._error = exc
        finally:
            self._done.set()

    def _model(self, audio: np.ndarray | None, source: str, name: str) -> list[Turn]:
        from whisper_cli.diarize.speakers import Diarizer

        diarizer = Diarizer(speaker_count(self._options))
        for block in _blocks(audio, source):
            diarizer.feed(block)
        return diarizer.finish()

    def _channels(self, audio: np.ndarray | None, source: str, name: str) -> list[Turn]:
        from whisper_cli.audio.stereo import iter_stereo
        from whisper_cli.diarize.channels import channel_turns

        turns: list[Turn] = []
        offset = 0
        for chunk in _joined(iter_stereo(source, name), int(CHANNEL_SECONDS * SAMPLE_RATE)):
            at = offset / SAMPLE_RATE
            for t in channel_turns(chunk[:, 0], chunk[:, 1]):
                turn = Turn(t.start + at, t.end + at, t.speaker)
                if turns and turns[-1].speaker == turn.speaker and turn.start - turns[-1].end <= _JOIN_GAP:
                    turn = Turn(turns.pop().start, turn.end, turn.speaker)  # cut at the chunk's edge
                turns.append(turn)
            offset += len(chunk)
        return turns


def _blocks(audio: np.ndarray | None, source: str) -> Iterator[np.ndarray]:
    if audio is None:
        from whisper_cli.audio.stream import iter_audio

        yield from iter_audio(source)
        return
    step = int(BLOCK_SECONDS * SAMPLE_RATE)
    for start in range(0, len(audio), step):
        yield audio[start : start + step]


def _joined(blocks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """(n, 2) blocks regrouped into chunks of ``size`` frames (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            pending, held = [joined[size:]], held - size
    if held:
        yield np.concatenate(pending)
