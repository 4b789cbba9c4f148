"""--ray local gets the CPUs its actors need: Ray starts one idle worker process per CPU as it starts."""

from __future__ import annotations

import os

from whisper_cli.cluster.executor import _local_cpus
from whisper_cli.decode.whisper import ModelSpec

CORES = os.cpu_count() or 1


def test_one_file_gets_one_cpu():
    assert _local_cpus(ModelSpec(workers=0, cpu_threads=0), calls=1) == 1


def test_many_files_get_the_machine():
    assert _local_cpus(ModelSpec(workers=0, cpu_threads=0), calls=1000) == CORES


def test_workers_and_threads_count():
    assert _local_cpus(ModelSpec(workers=1, cpu_threads=0), calls=1000) == 1
    assert _local_cpus(ModelSpec(workers=0, cpu_threads=2), calls=1) == min(CORES, 2)
    assert _local_cpus(ModelSpec(workers=64, cpu_threads=1), calls=3) == min(CORES, 3)
