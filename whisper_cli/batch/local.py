"""The local executor: inputs decoded ahead in a thread, transcribed by ``--workers`` threads on this machine.

Short clips share the engine's batches (``--batch-size``); every result goes to the
runner's ``deliver``, which writes and records it exactly as for any other executor.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from whisper_cli.batch.jobs import Job, Outcome, Status
from whisper_cli.batch.pipes import Pipes
from whisper_cli.batch.runner import Runner
from whisper_cli.batch.work import LongAudio, Produced, labeller, read_input, transcribed
from whisper_cli.core.errors import AudioError
from whisper_cli.core.transcript import ClipsFn, Segment, TranscribeFn, TranscriptInfo
from whisper_cli.decode.crossfile import fits

if TYPE_CHECKING:
    from whisper_cli.diarize.labels import Labeller

log = logging.getLogger(__name__)

Decoded = tuple[int, Job, np.ndarray | LongAudio | AudioError]  # job index, job, its audio
DecodedQueue = queue.Queue[Decoded | None]  # None: no more inputs


@dataclass(slots=True)
class LocalExecutor:
    """How transcripts are made on this machine (``Runner.execute``'s ``produce``)."""

    runner: Runner
    load: Callable[[], TranscribeFn]  # called once, while the first files decode
    # --diarize: each input's speakers, being found from when it is read (while the model
    # loads, for the first), by job index; taken when its transcript starts
    _labels: dict[int, Labeller] = field(default_factory=dict)
    pipes: Pipes | None = None  # the FIFO and device inputs, read apart (set by each call)

    def __call__(self, todo: list[tuple[int, Job]], outcomes: dict[int, Outcome]) -> None:
        """Decode ahead in a thread and transcribe in ``workers`` threads on this machine."""
        # Decoded ahead: one input per worker, or a batch of short clips per worker.
        decoded: DecodedQueue = queue.Queue(
            maxsize=self.runner.workers * max(1, self.runner.decode.batch_size)
        )
        self.pipes = Pipes(todo, self.runner.stop)
        try:
            decoder = threading.Thread(target=self._decode_ahead, args=(todo, decoded), daemon=True)
            decoder.start()
            transcribe = self.load() if todo else None
            self._consume(decoded, transcribe, outcomes)
        finally:
            self.runner.stop.set()
            _drain(decoded)

    def _decode_ahead(self, todo: list[tuple[int, Job]], out: DecodedQueue) -> None:
        """Decode inputs in order, at most ``workers`` (times ``--batch-size``, when short
        files share batches) ahead of the transcription. A FIFO or device is read by a
        thread of its own (pipes.py): one that nobody writes to holds up nothing."""
        assert self.pipes is not None
        for index, job in todo:
            if self.runner.stop.is_set():
                break
            if index in self.pipes.apart:
                self.pipes.start(index, job, lambda item: _put(out, item, self.runner.stop))
                continue
            try:
                item: np.ndarray | LongAudio | AudioError = read_input(job.input.source)
            except AudioError as exc:
                item = exc
            except Exception as exc:  # an unexpected decoder bug fails this file only
                log.debug("decoding %s failed", job.input.name, exc_info=True)
                item = AudioError(job.input.name, f"cannot decode audio ({type(exc).__name__}: {exc})")
            if not isinstance(item, AudioError):
                labels = labeller(item, self.runner.diarize, job.input.source, job.input.name)
                if labels is not None:
                    self._labels[index] = labels
            if not _put(out, (index, job, item), self.runner.stop):
                return
        self.pipes.join()
        _put(out, None, self.runner.stop)

    def _consume(self, decoded: DecodedQueue, transcribe: TranscribeFn | None, outcomes: dict) -> None:
        if transcribe is None:
            return
        if self.runner.workers <= 1:
            self._work(decoded, transcribe, outcomes)
            return
        with ThreadPoolExecutor(self.runner.workers, thread_name_prefix="whisper-cli") as pool:
            futures = [
                pool.submit(self._work, decoded, transcribe, outcomes) for _ in range(self.runner.workers)
            ]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self.runner.stop.set()
                raise

    def _work(self, decoded: DecodedQueue, transcribe: TranscribeFn, outcomes: dict) -> None:
        """Take decoded inputs until none are left (several threads may share the queue)."""
        clips: ClipsFn | None = (
            getattr(transcribe, "clips", None) if self.runner.decode.batch_size > 1 else None
        )
        held: Decoded | None = None
        while not self.runner.stop.is_set():
            item, held = held or _get(decoded, self.runner.stop), None
            if item is None:
                _put(decoded, None, self.runner.stop)  # let the other workers see the end too
                return
            group = [item]
            if clips is not None and fits(item[2]):
                held = _more_clips(decoded, group, self.runner.decode.batch_size, self.runner.stop)
            for index, job, _ in group:
                outcomes[index] = Outcome(job.input, Status.interrupted)
            if clips is None or len(group) == 1:
                index, job, audio = item
                outcomes[index] = self._one(index, job, audio, transcribe)
            else:
                self._together(group, clips, transcribe, outcomes)

    def _together(
        self, group: list[Decoded], clips: ClipsFn, transcribe: TranscribeFn, outcomes: dict
    ) -> None:
        """Decode short clips in one batch, then write each as if it had been decoded alone."""
        audios = [audio for _, _, audio in group if isinstance(audio, np.ndarray)]
        results: list[tuple[TranscriptInfo, list[Segment]] | None]
        try:
            results = list(clips(audios, self.runner.decode))
        except Exception as exc:  # the engine failed on the batch: each clip gets its own try
            log.debug("a batch of %d clips failed: %s", len(group), exc, exc_info=True)
            results = [None] * len(group)
        for (index, job, audio), result in zip(group, results, strict=True):
            outcomes[index] = self._one(index, job, audio, transcribe, result)

    def _one(
        self,
        index: int,
        job: Job,
        audio: np.ndarray | LongAudio | AudioError,
        transcribe: TranscribeFn,
        result: tuple[TranscriptInfo, list[Segment]] | None = None,
    ) -> Outcome:
        """Transcribe one input (or write ``result``, when it was decoded in a batch)."""

        def produce() -> Produced:
            if isinstance(audio, AudioError):
                raise audio
            labels = self._labels.pop(index, None) or labeller(
                audio, self.runner.diarize, job.input.source, job.input.name
            )
            if result is not None:
                if labels is None:
                    return Produced(result[0], iter(result[1]))
                return Produced(result[0], labels.label(result[1]), speakers=labels.seen)
            return transcribed(audio, transcribe, self.runner.decode, labels)

        outcome = self.runner.deliver(index, job, produce)
        if self.pipes is not None:
            self.pipes.finished(index)
        return outcome


def _more_clips(
    decoded: DecodedQueue, group: list[Decoded], size: int, stop: threading.Event
) -> Decoded | None:
    """Fill ``group`` with short clips, up to ``size`` in all, as they are decoded (short
    files decode in milliseconds); return the first item taken that is not one (a long
    input, an error), to be handled next."""
    while len(group) < size:
        item = _get(decoded, stop)
        if item is None:  # the end mark (or the run is stopping): leave it for the other workers
            _put(decoded, None, stop)
            return None
        if not fits(item[2]):
            return item
        group.append(item)
    return None


def _get(q: DecodedQueue, stop: threading.Event) -> Decoded | None:
    """The next item; None once the run is stopping (the decoder may never send its end mark)."""
    while not stop.is_set():
        try:
            return q.get(timeout=0.2)
        except queue.Empty:
            continue
    return None


def _put(out: queue.Queue, item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
