"""--ray: a run's transcripts made by Ray actors across a cluster, written here exactly as on one machine.

The driver (this process) decides what to do and writes every output through the
runner (ledger, atomic sinks, progress, report); actors (worker.py) load the model
once and transcribe files they read from the shared filesystem, each holding at most
DEPTH calls so it never waits for the driver. A worker process or node that dies
costs only its calls in flight: they go to other actors, and a replacement actor is
started. Ray's own retries are off, so each input is written once, by the driver,
and a file that fails on its own merit fails once.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import re
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from whisper_cli.batch.jobs import BatchResult, Job
from whisper_cli.batch.pipes import reads_apart
from whisper_cli.batch.runner import Runner
from whisper_cli.batch.work import Produced
from whisper_cli.cluster import parts
from whisper_cli.cluster.auth import authenticate, for_client
from whisper_cli.cluster.pool import ClusterError, Pool, ray_cause
from whisper_cli.core import signals
from whisper_cli.core.errors import AudioError, UsageError
from whisper_cli.decode.whisper import ModelSpec
from whisper_cli.models.resolve import MODEL_SIZES

log = logging.getLogger(__name__)

RAY_EXTRA = "pip install 'whisper-ct2-cli[ray]'"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours and the like in Ray's messages
PROBE_SECONDS = 5.0  # ray.init retries an unreachable address for minutes; a TCP probe says so at once


def import_ray(address: str = "") -> ModuleType:
    """Ray, or a usage error saying how to install it (``ray://`` addresses: with its client)."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed here: {RAY_EXTRA}") from None
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        cause = "ray:// needs Ray's client, which is not installed here: pip install 'ray[client]'"
        raise UsageError(f"--ray {address}: {cause}")
    return ray


def run_on_ray(
    runner: Runner, jobs: list[Job], address: str, spec: ModelSpec, token_file: Path | None = None
) -> BatchResult:
    """Run ``jobs`` with ``runner`` deciding and writing, and Ray actors at ``address`` transcribing
    (``token_file``: --ray-token-file)."""
    ray = import_ray()
    on_cluster = functools.partial(_on_cluster, ray, runner, address, spec, token_file=token_file)
    return runner.execute(jobs, on_cluster)


def _on_cluster(
    ray: ModuleType,
    runner: Runner,
    address: str,
    spec: ModelSpec,
    todo: list[tuple[int, Job]],
    outcomes: dict,
    token_file: Path | None = None,
) -> None:
    todo = _files_only(runner, todo, outcomes)
    if not todo:
        return  # everything was done already: no cluster needed
    # No more actors than calls to make (files, or parts of a long recording): each one
    # more loads a model, on CPUs the others need.
    calls = parts.calls(runner, todo)
    try:
        connect(ray, address, token_file, cpus=_local_cpus(spec, calls) if address == "local" else None)
        worker, count, options = _sizing(ray, address, spec)
        Pool(ray, runner, address, worker, runner.decode, options, outcomes).run(todo, min(count, calls))
    finally:
        # Disconnects from a cluster it joined (which keeps running; this job's actors
        # end with it); stops a `local` instance.
        with contextlib.suppress(Exception):
            ray.shutdown()


def _local_cpus(spec: ModelSpec, calls: int) -> int:
    """The CPUs a ``local`` instance gets: what its actors need, at most this machine's (Ray
    starts an idle worker process per CPU as it starts, each one more costing start-up CPU)."""
    actors = min(calls, spec.workers or calls)
    return max(1, min(os.cpu_count() or 1, actors * max(1, spec.cpu_threads)))


def _files_only(runner: Runner, todo: list[tuple[int, Job]], outcomes: dict) -> list[tuple[int, Job]]:
    """``todo`` less its FIFOs and devices, each failed at once with one line: a worker opens
    its inputs by path on its own node, where this machine's FIFO is another one or none (it
    would wait there for a writer that never comes, and hold up the files queued behind it)."""
    files = []
    for index, job in todo:
        if reads_apart(job.input.source):
            fail = functools.partial(_not_a_file, job.input.name)
            outcomes[index] = runner.deliver(index, job, fail)
        else:
            files.append((index, job))
    return files


def _not_a_file(name: str) -> Produced:
    cause = "a FIFO or device cannot reach the Ray workers (they read files): save it to a file"
    raise AudioError(name, cause)


def connect(ray: ModuleType, address: str, token_file: Path | None = None, cpus: int | None = None) -> None:
    """Join the cluster at ``address`` (``local``: start one for this run, of ``cpus`` CPUs or
    all), showing it a token if it wants one (auth.py).

    Raises:
        ClusterError: it cannot be reached, or refuses this process, said in one line with the cause.
    """
    target = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
    direct = target not in ("", "local", "auto") and "://" not in target
    if direct or target.startswith("ray://"):
        _probe(address, target.removeprefix("ray://"))
    # Ray's notes (token authentication, memory) only with -v: stderr stays ours otherwise.
    chatty = logging.getLogger("whisper_cli").getEffectiveLevel() <= logging.INFO
    kwargs: dict[str, Any] = {
        "log_to_driver": False,
        "logging_level": logging.INFO if chatty else logging.ERROR,
    }
    if address == "local":
        kwargs["include_dashboard"] = False
        if cpus is not None:
            kwargs["num_cpus"] = cpus
    _route_ray_messages_to_our_log()
    hint = ""  # ray://: what a failure may mean (its client server says only "timeout")
    try:
        with _native_stderr_to_log(logging.INFO if chatty else logging.DEBUG):
            if target.startswith("ray://"):
                hint = for_client(token_file)
            elif address != "local":
                authenticate(ray, address, target if direct else _found(address), token_file)
            ray.init(address=address, **kwargs)
    except ray.exceptions.AuthenticationError as exc:  # the cluster changed its mind, or RAY_ADDRESS did
        raise ClusterError(f"--ray {address}: authentication failed ({ray_cause(exc)})") from None
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        cause = ray_cause(exc)
        hint = hint if "timeout" in cause else ""
        raise ClusterError(f"--ray {address}: cannot connect ({cause}{hint})") from None
    finally:
        signals.install()  # ray.init put its own SIGTERM handler in place of ours


def _found(address: str) -> str | None:
    """The HOST:PORT that ``auto`` stands for (a cluster this machine joined), when Ray can tell."""
    if address != "auto":
        return None  # ray://: the client server checks tokens itself
    try:
        from ray._private.services import canonicalize_bootstrap_address  # Ray's module, not public

        return canonicalize_bootstrap_address("auto")
    except Exception:  # none found, or Ray changed: ray.init says what it finds
        return None


def _route_ray_messages_to_our_log() -> None:
    """Ray's driver prints what the cluster reports about this job (a worker that died: a
    coloured "(raylet) A worker died ..." paragraph) from a thread of its own, on stdout,
    whatever log_to_driver says. stdout carries transcripts and stderr our own lines, so
    those messages go to our log instead, one line each at debug level (--debug shows them);
    what a lost worker means for the run, our own warning says."""
    try:
        from ray._private import worker as ray_driver  # Ray's module, not public: checked, then replaced
    except ImportError:
        return
    if callable(getattr(ray_driver, "print_to_stdstream", None)):
        ray_driver.print_to_stdstream = _ray_message_to_log


def _ray_message_to_log(data: dict[str, Any], ignore_prefix: bool = False) -> None:
    """``ray._private.worker.print_to_stdstream``'s stand-in: each line, without colours, logged."""
    for line in data.get("lines") or []:
        text = " ".join(_ANSI.sub("", str(line)).split())
        if text:
            log.debug("Ray (%s): %s", data.get("pid", "?"), text)


@contextlib.contextmanager
def _native_stderr_to_log(level: int) -> Iterator[None]:
    """Within: what is written on file descriptor 2 (Ray's C++ core starting in this process:
    "[2026-… W …] network_util.cc: Failed to determine local IP …") is kept aside, then logged
    line by line at ``level``. Nothing of ours is written meanwhile: an error is raised, and
    said once this ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as aside:
        os.dup2(aside.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            aside.seek(0)
            for line in aside.read().decode(errors="replace").splitlines():
                if text := " ".join(_ANSI.sub("", line).split()):
                    log.log(level, "Ray: %s", text)


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
