"""--ray: a run's transcripts made by Ray actors across a cluster, written here exactly as on one machine.

The driver (this process) decides what to do and writes every output through the
runner (ledger, atomic sinks, progress, report); actors (rayworker.py) load the model
once and transcribe files they read from the shared filesystem, each holding at most
DEPTH calls so it never waits for the driver. A worker process or node that dies
costs only its calls in flight: they go to other actors, and a replacement actor is
started. Ray's own retries are off, so each input is written once, by the driver,
and a file that fails on its own merit fails once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import time
from collections import deque
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from whisper_cli import signals
from whisper_cli.audio import display_name
from whisper_cli.batch import BatchResult, Job, Outcome, Status
from whisper_cli.errors import AudioError, ModelLoadError, UsageError, WhisperCliError
from whisper_cli.model import MODEL_SIZES, ModelSpec
from whisper_cli.rayworker import Done
from whisper_cli.runner import Runner
from whisper_cli.transcript import DecodeOptions
from whisper_cli.work import Produced

log = logging.getLogger(__name__)

RAY_EXTRA = "pip install 'whisper-ct2-cli[ray]'"
DEPTH = 2  # calls queued per actor: the next file is there the moment one ends
ATTEMPTS = 3  # an input whose worker died this often fails (it may be what kills them)
STALL_SECONDS = 600.0  # no actor working for this long, with files left: the cluster has gone
PROBE_SECONDS = 5.0  # ray.init retries an unreachable address for minutes; a TCP probe says so at once


class ClusterError(ModelLoadError):
    """The Ray cluster cannot be reached, or has no room for one worker (exit 3, like a model)."""

    stopped_by = "Ray cluster unavailable"


def import_ray() -> ModuleType:
    """Ray, or a usage error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed here: {RAY_EXTRA}") from None
    return ray


def run_on_ray(runner: Runner, jobs: list[Job], address: str, spec: ModelSpec) -> BatchResult:
    """Run ``jobs`` with ``runner`` deciding and writing, and Ray actors at ``address`` transcribing."""
    ray = import_ray()
    return runner.execute(jobs, functools.partial(_on_cluster, ray, runner, address, spec))


def _on_cluster(
    ray: ModuleType,
    runner: Runner,
    address: str,
    spec: ModelSpec,
    todo: list[tuple[int, Job]],
    outcomes: dict,
) -> None:
    if not todo:
        return  # everything was done already: no cluster needed
    try:
        connect(ray, address)
        worker, count, options = _sizing(ray, address, spec)
        _Pool(ray, runner, address, worker, runner.decode, options, outcomes).run(todo, count)
    finally:
        # Disconnects from a cluster it joined (which keeps running; this job's actors
        # end with it); stops a `local` instance.
        with contextlib.suppress(Exception):
            ray.shutdown()


def connect(ray: ModuleType, address: str) -> None:
    """Join the cluster at ``address`` (``local``: start one for this run).

    Raises:
        ClusterError: it cannot be reached, said in one line with the cause.
    """
    target = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
    if target not in ("", "local", "auto") and "://" not in target:
        _probe(address, target)
    # Ray's notes (token authentication, memory) only with -v: stderr stays ours otherwise.
    chatty = logging.getLogger("whisper_cli").getEffectiveLevel() <= logging.INFO
    kwargs: dict[str, Any] = {
        "log_to_driver": False,
        "logging_level": logging.INFO if chatty else logging.ERROR,
    }
    if address == "local":
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise ClusterError(f"--ray {address}: cannot connect ({_first_line(exc)})") from None
    finally:
        signals.install()  # ray.init put its own SIGTERM handler in place of ours


def _probe(address: str, target: str) -> None:
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray {address}: not an address (HOST:PORT, ray://HOST:PORT, auto or local)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        cause = exc.strerror or str(exc) or type(exc).__name__
        raise ClusterError(f"--ray {address}: cannot reach {target} ({cause})") from None


def _sizing(ray: ModuleType, address: str, spec: ModelSpec) -> tuple[ModelSpec, int, dict[str, Any]]:
    """The actors' model spec, how many (``--workers``, or as many as fit), and their resources.

    Raises:
        ClusterError: no node has room for even one.
    """
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    gpus = [int(r.get("GPU", 0)) for r in nodes]
    device = spec.device if spec.device != "auto" else ("cuda" if any(gpus) else "cpu")
    if device == "cuda":
        threads, fit, need = spec.cpu_threads, sum(gpus), "1 GPU"
        options: dict[str, Any] = {"num_cpus": 1, "num_gpus": 1}
    else:
        threads = spec.cpu_threads or 1  # one thread per actor, as many actors as CPUs
        fit, need = sum(int(r.get("CPU", 0) // threads) for r in nodes), f"{threads} CPU on one node"
        options = {"num_cpus": threads}
    if fit == 0:
        have = ", ".join(f"{r.get('CPU', 0):g} CPU/{r.get('GPU', 0):g} GPU" for r in nodes) or "no live node"
        raise ClusterError(f"--ray {address}: no room for one worker: it needs {need} (nodes: {have})")
    options.update(max_restarts=0, max_task_retries=0, scheduling_strategy="SPREAD")
    worker = replace(spec, model=_shared_model(spec.model), device=device, cpu_threads=threads, workers=1)
    return worker, spec.workers or fit, options


def _shared_model(model: str) -> str:
    """A model folder as an absolute path (the workers' working folder is not ours); a size as is."""
    folder = os.path.expanduser(model)
    looks_like_path = model.startswith(("./", "../", "~", "/")) or os.sep in model
    if looks_like_path or (os.path.isdir(folder) and model not in MODEL_SIZES):
        return os.path.abspath(folder)
    if os.path.isfile(os.path.join(folder, "model.bin")):  # a model folder named like a size, here
        return os.path.abspath(folder)
    return model


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


class _Pool:
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
        from whisper_cli.rayworker import Worker

        self.ray, self.runner, self.address, self.outcomes = ray, runner, address, outcomes
        self.new_actor = functools.partial(ray.remote(Worker).options(**options).remote, spec, decode)
        self.waiting: deque[_Task] = deque()
        self.loading: dict[Any, _Actor] = {}  # load() call → actor
        self.calls: dict[Any, tuple[_Actor, _Task]] = {}  # run() call → actor, task
        self.ready: set[_Actor] = set()
        self.failed_starts = 0
        self.moved = time.monotonic()  # when an actor last got ready or returned

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
                cause = _first_line(exc)
                raise ClusterError(f"--ray {self.address}: workers cannot start ({cause})") from None
            log.info("a Ray worker could not start (%s): starting another", _first_line(exc))
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
            task = self.waiting.popleft()
            sources = [os.path.abspath(job.input.source) for _, job in task.group]
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
            self._fail(task, _first_line(exc))
            return
        except self.ray.exceptions.RayError as exc:  # the worker process or its node died
            self._lost(actor, exc)
            return
        self._forget(actor, ref)
        self.moved = time.monotonic()
        self._feed(actor)  # before writing: the actor starts its next file meanwhile
        for (index, job), done in zip(task.group, results, strict=True):
            outcome = self.runner.deliver(index, job, functools.partial(_produced, job, done))
            self.outcomes[index] = outcome if outcome.node else replace(outcome, node=done.node)

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
        self.runner.reporter.warning(
            f"Ray worker on {actor.node} lost ({_first_line(exc)}): {names} input(s) go to other workers"
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

    def _fail(self, task: _Task, message: str) -> None:
        for index, job in task.group:
            self.outcomes[index] = self.runner.deliver(index, job, functools.partial(_raise, message))


def _produced(job: Job, done: Done) -> Produced:
    """``done`` as the runner writes it, or the error that failed it (named as the user named the input)."""
    if done.audio_error is not None:
        raise AudioError(job.input.name, done.audio_error)
    if done.error is not None or done.info is None:
        raise WhisperCliError(done.error or "no transcript came back")
    decoded = [done.samples] if done.samples else []
    return Produced(done.info, iter(done.segments), decoded, done.seconds, done.node)


def _raise(message: str) -> Produced:
    raise WhisperCliError(message)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return display_name(lines[0] if lines else type(exc).__name__)[:300]
