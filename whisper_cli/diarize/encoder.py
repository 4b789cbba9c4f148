"""Resemblyzer's GE2E voice encoder on onnxruntime: 3 LSTM layers of 256, linear 256 + ReLU, L2-normalised."""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from whisper_cli.diarize import onnxgraph

PARTIAL_FRAMES = 160  # mel frames per embedded window: 1.6 s
HIDDEN = 256
LAYERS = 3
WEIGHTS = "voice_encoder.npz"  # converted by scripts/convert_resemblyzer.py; see WEIGHTS.md


@functools.cache
def load_weights() -> dict[str, np.ndarray]:
    """The encoder's weights as float32 (float16 on disk), named as torch's state_dict; loaded once."""
    with resources.files("whisper_cli.diarize").joinpath(WEIGHTS).open("rb") as f, np.load(f) as z:
        return {k: z[k].astype(np.float32) for k in z.files}


def _onnx_gates(w: np.ndarray) -> np.ndarray:
    """torch's gate order (input, forget, cell, output) to ONNX's (input, output, forget, cell)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate((i, o, f, g), axis=0)


@functools.cache
def session():  # type: ignore[no-untyped-def]
    """An onnxruntime session of the encoder, built once per process, one thread."""
    import onnxruntime

    w = load_weights()
    nodes, inits = [], []
    x = "mels"  # (frames, batch, 40)
    for layer in range(LAYERS):
        names = [f"w{layer}", f"r{layer}", f"b{layer}"]
        inits += [
            onnxgraph.tensor(names[0], _onnx_gates(w[f"lstm.weight_ih_l{layer}"])[None]),
            onnxgraph.tensor(names[1], _onnx_gates(w[f"lstm.weight_hh_l{layer}"])[None]),
            onnxgraph.tensor(
                names[2],
                np.concatenate(
                    (_onnx_gates(w[f"lstm.bias_ih_l{layer}"]), _onnx_gates(w[f"lstm.bias_hh_l{layer}"]))
                )[None],
            ),
        ]
        if layer < LAYERS - 1:
            nodes += [
                onnxgraph.node("LSTM", [x, *names], [f"y{layer}"], hidden_size=HIDDEN),
                onnxgraph.node("Squeeze", [f"y{layer}", "axis1"], [f"x{layer + 1}"]),
            ]
            x = f"x{layer + 1}"
        else:
            nodes.append(onnxgraph.node("LSTM", [x, *names], ["", "h"], hidden_size=HIDDEN))
    inits += [
        onnxgraph.tensor("axis1", np.array([1], np.int64)),
        onnxgraph.tensor("w_out", w["linear.weight"].T),
        onnxgraph.tensor("b_out", w["linear.bias"]),
    ]
    nodes += [
        onnxgraph.node("MatMul", ["h", "w_out"], ["lin"]),
        onnxgraph.node("Add", ["lin", "b_out"], ["pre"]),
        onnxgraph.node("Relu", ["pre"], ["embedding"]),
    ]
    proto = onnxgraph.model(
        nodes,
        inits,
        [onnxgraph.value_info("mels", ("frames", "batch", 40))],
        [onnxgraph.value_info("embedding", (1, "batch", HIDDEN))],
        opset=13,
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(proto, options, providers=["CPUExecutionProvider"])


def embed(mels: np.ndarray) -> np.ndarray:
    """(batch, 256) L2-normalised embeddings of (batch, frames, 40) mel spectra (frames = 160 normally).

    The embedding is ReLU(linear(h)) of the last LSTM layer's final hidden state, as in
    ``resemblyzer.VoiceEncoder.forward``.
    """
    x = np.asarray(mels, np.float32)
    if x.shape[0] == 0:
        return np.zeros((0, HIDDEN), np.float32)
    (out,) = session().run(None, {"mels": np.ascontiguousarray(x.transpose(1, 0, 2))})
    out = out[0]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
