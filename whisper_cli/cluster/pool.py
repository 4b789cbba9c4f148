"""The actors of a --ray run and the inputs in flight on them: fed, collected, replaced when they die."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from whisper_cli.audio.load import display_name
from whisper_cli.batch.jobs import Job, Outcome, Status
from whisper_cli.batch.runner import Runner
from whisper_cli.batch.work import Produced
from whisper_cli.cluster.parts import Cut, Cutter, Part, take
from whisper_cli.cluster.transfer import Sender
from whisper_cli.cluster.worker import Done
from whisper_cli.core.errors import AudioError, ModelLoadError, WhisperCliError
from whisper_cli.core.transcript import DecodeOptions
from whisper_cli.decode.whisper import ModelSpec

log = logging.getLogger("whisper_cli.cluster.executor")  # one logger for the --ray run's messages


DEPTH = 2  # calls queued per actor: the next file is there the moment one ends


ATTEMPTS = 3  # an input whose worker died this often fails (it may be what kills them)


STALL_SECONDS = 600.0  # no actor working for this long, with files left: the cluster has gone


class ClusterError(ModelLoadError):
    """The Ray cluster cannot be reached, or has no room for one worker (exit 3, like a model)."""

    stopped_by = "Ray cluster unavailable"


@dataclass(slots=True)
class _Task:
    """Inputs sent to an actor in one call (several with --batch-size) and how often their worker died."""

    group: tuple[tuple[int, Job], ...]
    attempts: int = 0


@dataclass(eq=False, slots=True)
class _Actor:
    handle: Any
    node: str = "?"
    calls: deque[Any] = field(default_factory=deque)  # its run() calls in flight, oldest first


class Pool:
    """The actors and the files in flight on them; everything runs in the driver's main thread."""

    def __init__(
        self,
        ray: ModuleType,
        runner: Runner,
        address: str,
        spec: ModelSpec,
        decode: DecodeOptions,
        options: dict[str, Any],
        outcomes: dict,
    ) -> None:
        from whisper_cli.cluster.worker import Worker

        self.ray, self.runner, self.address, self.outcomes = ray, runner, address, outcomes
        self.new_actor = functools.partial(
            ray.remote(Worker).options(**options).remote, spec, decode, runner.diarize
        )
        self.waiting: deque[_Task | Part | Cut] = deque()
        self.loading: dict[Any, _Actor] = {}  # load() call → actor
        self.calls: dict[Any, tuple[_Actor, _Task | Part]] = {}  # run() or part() call → actor, task
        self.ready: set[_Actor] = set()
        self.failed_starts = 0
        self.moved = time.monotonic()  # when an actor last got ready or returned
        self.sender = Sender(ray)  # each input by path, or its bytes where a node cannot see it
        # long recordings cut into parts, each a call of its own (parts.py)
        self.cutter = Cutter(ray, runner, outcomes, spec.model) if Cutter.applies(runner) else None

    def run(self, todo: list[tuple[int, Job]], count: int) -> None:
        """Transcribe ``todo`` on ``count`` actors; return when every input has its outcome."""
        size = max(1, self.runner.decode.batch_size)
        self.waiting.extend(_Task(tuple(todo[i : i + size])) for i in range(0, len(todo), size))
        log.info("Ray: %d worker(s) for %d input(s)", count, len(todo))
        for _ in range(count):
            self._spawn()
        while self.waiting or self.calls:
            ready, _ = self.ray.wait([*self.calls, *self.loading], num_returns=1, timeout=0.5)
            for ref in ready:
                if ref in self.loading:
                    self._loaded(ref)
                else:
                    self._returned(ref)
            if self.waiting and not self.ready and time.monotonic() - self.moved > STALL_SECONDS:
                raise ClusterError(f"--ray {self.address}: no worker has run for {STALL_SECONDS:.0f} s")
        if self.sender.sent:
            log.info("Ray: %.1f MiB of inputs sent to nodes that cannot see them", self.sender.sent / 2**20)

    def _spawn(self) -> None:
        actor = _Actor(self.new_actor())
        self.loading[actor.handle.load.remote()] = actor

    def _loaded(self, ref: Any) -> None:
        actor = self.loading.pop(ref)
        try:
            actor.node, error = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:  # it could not start, or its node went
            self.failed_starts += 1
            if not self.ready and self.failed_starts > 3:
                cause = ray_cause(exc)
                raise ClusterError(f"--ray {self.address}: workers cannot start ({cause})") from None
            log.info("a Ray worker could not start (%s): starting another", ray_cause(exc))
            self._spawn()
            return
        if error is not None:
            raise ModelLoadError(error)
        log.info("Ray worker ready on %s", actor.node)
        self.ready.add(actor)
        self.moved = time.monotonic()
        self._feed(actor)

    def _feed(self, actor: _Actor) -> None:
        while len(actor.calls) < DEPTH and self.waiting:
            task = take(self.waiting, self.cutter)  # parts.py: a file, or a part of a long one
            if task is None:
                return
            if isinstance(task, Part):  # its samples travel with it: seen by every node
                ref = task.send(actor.handle)
                self.calls[ref] = (actor, task)
                actor.calls.append(ref)
                continue
            paths = [os.path.abspath(job.input.source) for _, job in task.group]
            sources = [self.sender.source(path, actor.node) for path in paths]
            ref = actor.handle.run.remote(sources)
            self.calls[ref] = (actor, task)
            actor.calls.append(ref)
            for index, job in task.group:
                self.outcomes[index] = Outcome(job.input, Status.interrupted)

    def _returned(self, ref: Any) -> None:
        actor, task = self.calls[ref]
        try:
            results: list[Done] = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # our code raised in the worker: no retry
            self._forget(actor, ref)
            self._feed(actor)
            self._fail(task, ray_cause(exc))
            return
        except self.ray.exceptions.RayError as exc:  # the worker process or its node died
            self._lost(actor, exc)
            return
        self._forget(actor, ref)
        self.moved = time.monotonic()
        if isinstance(task, Part):  # parts.py gathers the parts, and writes the recording
            self._feed(actor)
            task.cut.returned(task, results)
            for other in self.ready:  # a first part back may let a recording's later parts go
                self._feed(other)
            return
        self._resend(actor, task, results)
        self._feed(actor)  # before writing: the actor starts its next file meanwhile
        for (index, job), done in zip(task.group, results, strict=True):
            if done.unseen:
                continue
            produce = functools.partial(_produced, job, done, self.runner.diarize is not None)
            outcome = self.runner.deliver(index, job, produce)
            self.outcomes[index] = outcome if outcome.node else replace(outcome, node=done.node)

    def _resend(self, actor: _Actor, task: _Task, results: list[Done]) -> None:
        """The inputs ``actor``'s node did not have go back to the front, to be sent (transfer.py)."""
        unseen = tuple(item for item, done in zip(task.group, results, strict=True) if done.unseen)
        if unseen:
            if actor.node not in self.sender.blind:
                log.info("Ray node %s cannot see the inputs: they are sent to it", actor.node)
            self.sender.blind.add(actor.node)
            self.waiting.appendleft(_Task(unseen, task.attempts))

    def _forget(self, actor: _Actor, ref: Any) -> None:
        del self.calls[ref]
        actor.calls.remove(ref)

    def _lost(self, actor: _Actor, exc: Exception) -> None:
        """Its calls go back to the front of the queue (the one it was running counted against
        its inputs), and another actor takes its place."""
        tasks = [self.calls.pop(ref)[1] for ref in actor.calls]
        self.ready.discard(actor)
        with contextlib.suppress(Exception):
            self.ray.kill(actor.handle, no_restart=True)
        running = tasks[0]
        running.attempts += 1
        names = len([i for t in tasks for i in t.group])
        parts = sum(isinstance(t, Part) for t in tasks)
        what = f"{names} input(s)" + (f" and {parts} part(s) of long recordings" if parts else "")
        self.runner.reporter.warning(
            f"Ray worker on {actor.node} lost ({ray_cause(exc)}): {what} go to other workers"
        )
        retry = tasks[1:] if running.attempts >= ATTEMPTS else tasks
        if running.attempts >= ATTEMPTS:
            self._fail(running, f"its Ray worker died {ATTEMPTS} times while transcribing it")
        for task in reversed(retry):
            self.waiting.appendleft(task)
            for index, _ in task.group:
                self.outcomes.pop(index, None)
        self._spawn()
        for other in self.ready:  # the requeued files go to whoever has room now
            self._feed(other)

    def _fail(self, task: _Task | Part, message: str) -> None:
        if isinstance(task, Part):  # its recording fails, once
            task.cut.fail(WhisperCliError(message))
            return
        for index, job in task.group:
            self.outcomes[index] = self.runner.deliver(index, job, functools.partial(_raise, message))


def _produced(job: Job, done: Done, diarized: bool = False) -> Produced:
    """``done`` as the runner writes it, or the error that failed it (named as the user named the input);
    ``diarized``: its segments carry speakers (--diarize), to be counted."""
    if done.audio_error is not None:
        raise AudioError(job.input.name, done.audio_error)
    if done.error is not None or done.info is None:
        raise WhisperCliError(done.error or "no transcript came back")
    decoded = [done.samples] if done.samples else []
    speakers = {s.speaker for s in done.segments if s.speaker and s.text.strip()} if diarized else None
    return Produced(done.info, iter(done.segments), decoded, done.seconds, done.node, speakers)


def _raise(message: str) -> Produced:
    raise WhisperCliError(message)


def ray_cause(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return display_name(lines[0] if lines else type(exc).__name__)[:300]
