"""The hardware a model runs on: devices, compute types, and how many decoders and threads to use."""

from __future__ import annotations

import logging
import os

from whisper_cli.core.errors import ModelLoadError

log = logging.getLogger(__name__)


DEVICES = ("auto", "cpu", "cuda")


COMPUTE_TYPES = (
    "default",
    "auto",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


def resolve_device(device: str) -> str:
    """ "cpu" or "cuda"; "auto" picks CUDA when a GPU is visible to CTranslate2."""
    import ctranslate2

    gpus = ctranslate2.get_cuda_device_count()
    if device == "auto":
        return "cuda" if gpus > 0 else "cpu"
    if device == "cuda" and gpus == 0:
        raise ModelLoadError("--device cuda was asked for, but CTranslate2 sees no CUDA GPU")
    if device not in ("cpu", "cuda"):
        raise ModelLoadError(f"unknown device {device!r}: use cpu, cuda or auto")
    return device


def resolve_compute_type(device: str, compute_type: str) -> str:
    """Check the compute type against what the device supports; pick one for "default"."""
    import ctranslate2

    supported = set(ctranslate2.get_supported_compute_types(device))
    if compute_type in ("default", "auto"):
        # int8 weights: the fastest on CPUs; float16 on GPUs, int8_float16 when it lacks fp16.
        preference = ("float16", "int8_float16", "float32") if device == "cuda" else ("int8", "float32")
        chosen = next(t for t in preference if t in supported)
        log.info("compute type: %s (best supported on %s)", chosen, device)
        return chosen
    if compute_type not in supported:
        raise ModelLoadError(
            f"compute type {compute_type} is not supported on {device}; "
            f"supported: {', '.join(sorted(supported))}"
        )
    return compute_type


def cpu_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers(device: str) -> int:
    """Decoders to run at once when none were asked for.

    CPU: one per core, each with one thread. Sequential beam search keeps little more
    than one core busy, and one CTranslate2 thread per decoder beat two on a 2-core
    machine (README, Performance). CUDA: one; batching is the lever there.
    """
    return 1 if device == "cuda" else max(1, min(4, cpu_cores()))


def default_cpu_threads(workers: int) -> int:
    """Threads per model instance when none were asked for: the cores shared among workers."""
    return max(1, min(8, cpu_cores() // max(1, workers)))
