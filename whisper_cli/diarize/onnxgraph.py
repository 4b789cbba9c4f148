"""A minimal ONNX protobuf writer: enough to describe the voice encoder's graph for onnxruntime.

The ``onnx`` package is not a dependency, so the few messages needed (model, graph, node,
attribute, tensor, value info) are encoded here by hand, following onnx.proto3.
"""

from __future__ import annotations

import numpy as np

_FLOAT, _INT64 = 1, 7  # TensorProto.DataType
_ATTR_INT = 2  # AttributeProto.AttributeType


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto holding ``array`` (float32 or int64) as raw little-endian data."""
    kind = _INT64 if array.dtype == np.int64 else _FLOAT
    array = np.ascontiguousarray(array, np.int64 if kind == _INT64 else np.float32)
    dims = b"".join(_int(1, d) for d in array.shape)
    return (
        dims + _int(2, kind) + _bytes(8, name) + _bytes(9, array.astype("<" + array.dtype.str[1:]).tobytes())
    )


def value_info(name: str, shape: tuple[int | str, ...]) -> bytes:
    """A float tensor's ValueInfoProto; str dimensions are symbolic."""
    dims = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    tensor_type = _int(1, _FLOAT) + _bytes(2, dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def node(op: str, inputs: list[str], outputs: list[str], **ints: int) -> bytes:
    """A NodeProto of the default domain with integer attributes."""
    attrs = b"".join(_bytes(5, _bytes(1, k) + _int(3, v) + _int(20, _ATTR_INT)) for k, v in ints.items())
    return (
        b"".join(_bytes(1, i) for i in inputs)
        + b"".join(_bytes(2, o) for o in outputs)
        + _bytes(4, op)
        + attrs
    )


def model(
    nodes: list[bytes], initializers: list[bytes], inputs: list[bytes], outputs: list[bytes], opset: int
) -> bytes:
    """A serialised ModelProto (IR version 7) of one graph."""
    graph = (
        b"".join(_bytes(1, n) for n in nodes)
        + _bytes(2, "graph")
        + b"".join(_bytes(5, t) for t in initializers)
        + b"".join(_bytes(11, i) for i in inputs)
        + b"".join(_bytes(12, o) for o in outputs)
    )
    return _int(1, 7) + _bytes(7, graph) + _bytes(8, _bytes(1, "") + _int(2, opset))
