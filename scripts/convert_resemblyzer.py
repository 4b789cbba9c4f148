"""Convert Resemblyzer 0.1.4's voice-encoder weights (a legacy torch pickle) to the float16 .npz we ship.

Reads ``resemblyzer/pretrained.pt`` straight from the wheel, without torch: a restricted unpickler
rebuilds tensors as numpy arrays and refuses every other class. Usage::

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/wheels
    python scripts/convert_resemblyzer.py /tmp/wheels/Resemblyzer-0.1.4-py3-none-any.whl \\
        whisper_cli/diarize/voice_encoder.npz
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MEMBER = "resemblyzer/pretrained.pt"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
# Layers of the GE2E encoder, in the names the npz uses (= the torch state_dict names).
_GATES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
KEYS = (*(f"lstm.{kind}_l{layer}" for layer in range(3) for kind in _GATES), "linear.weight", "linear.bias")


@dataclass
class _Storage:
    """A storage named in the pickle; its bytes follow the pickle in the file."""

    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    """A tensor waiting for its storage's bytes."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        base = self.storage.data[self.offset :]
        item = base.itemsize
        return np.lib.stride_tricks.as_strided(
            base, self.shape, tuple(s * item for s in self.stride), writeable=False
        ).copy()


def _rebuild_tensor_v2(storage, offset, shape, stride, *_ignored) -> _Tensor:  # type: ignore[no-untyped-def]
    return _Tensor(storage, int(offset), tuple(shape), tuple(stride))


class _StorageType:
    """Stands for torch.FloatStorage and friends while unpickling."""

    def __init__(self, name: str) -> None:
        self.dtype = _STORAGES[name]


class _Restricted(pickle.Unpickler):
    """Unpickles a legacy torch checkpoint: tensors, their storages and OrderedDict, nothing else."""

    def __init__(self, file: io.BufferedIOBase) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: only tensors are read")

    def persistent_load(self, pid):  # type: ignore[no-untyped-def]
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"refused persistent id {pid!r}")
        _, kind, key, _location, numel, view = pid
        if view is not None or not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError("storage views are not supported")
        return self.storages.setdefault(key, _Storage(kind.dtype, int(numel)))


class _Plain(pickle.Unpickler):
    """The header pickles of a legacy checkpoint hold plain values only."""

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        raise pickle.UnpicklingError(f"refused to load {module}.{name} in a checkpoint header")


def read_legacy_torch(data: bytes) -> object:
    """The object saved in a legacy (pre-zip) torch file, tensors as numpy arrays."""
    f = io.BytesIO(data)
    if _Plain(f).load() != _LEGACY_MAGIC:
        raise ValueError("not a legacy torch checkpoint (magic number differs)")
    _Plain(f).load()  # protocol version
    sys_info = _Plain(f).load()
    if not (isinstance(sys_info, dict) and sys_info.get("little_endian", False)):
        raise ValueError("only little-endian checkpoints are supported")
    unpickler = _Restricted(f)
    result = unpickler.load()
    keys = _Plain(f).load()
    for key in keys:
        storage = unpickler.storages[key]
        numel = int.from_bytes(f.read(8), "little")
        if numel != storage.numel:
            raise ValueError(f"storage {key} holds {numel} items, the pickle says {storage.numel}")
        raw = f.read(numel * np.dtype(storage.dtype).itemsize)
        storage.data = np.frombuffer(raw, storage.dtype)
    return _materialise(result)


def _materialise(obj: object) -> object:
    if isinstance(obj, _Tensor):
        return obj.array()
    if isinstance(obj, dict):
        return type(obj)((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return type(obj)(_materialise(v) for v in obj)
    return obj


def convert(wheel: Path) -> dict[str, np.ndarray]:
    """The encoder's weights from the Resemblyzer wheel, as float16 arrays named as in ``KEYS``."""
    with zipfile.ZipFile(wheel) as z:
        checkpoint = read_legacy_torch(z.read(MEMBER))
    assert isinstance(checkpoint, dict)
    state = checkpoint["model_state"]
    missing = [k for k in KEYS if k not in state]
    if missing:
        raise ValueError(f"the checkpoint lacks {', '.join(missing)}")
    return {k: np.asarray(state[k], np.float32).astype(np.float16) for k in KEYS}


def write(weights: dict[str, np.ndarray], out: Path) -> None:
    """Write ``weights`` as an uncompressed .npz whose bytes depend on the weights only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for key in KEYS:
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(weights[key]), allow_pickle=False)
            z.writestr(info, member.getvalue())
    out.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="Resemblyzer-0.1.4-py3-none-any.whl")
    parser.add_argument("out", type=Path, help="the .npz to write")
    args = parser.parse_args(argv)
    weights = convert(args.wheel)
    write(weights, args.out)
    total = sum(w.size for w in weights.values())
    print(f"{args.out}: {total} parameters, {args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
