"""A second, independent implementation of the voice encoder in plain numpy, to check the ONNX one."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.encoder import HIDDEN, LAYERS
from whisper_cli.diarize.encoder import load_weights as shipped_weights


def load_weights() -> dict[str, np.ndarray]:
    """The shipped weights, transposed for numpy's row-vector convention, gate biases summed."""
    w = shipped_weights()
    out: dict[str, np.ndarray] = {}
    for layer in range(LAYERS):
        out[f"w_ih{layer}"] = np.ascontiguousarray(w[f"lstm.weight_ih_l{layer}"].T)
        out[f"w_hh{layer}"] = np.ascontiguousarray(w[f"lstm.weight_hh_l{layer}"].T)
        out[f"b{layer}"] = w[f"lstm.bias_ih_l{layer}"] + w[f"lstm.bias_hh_l{layer}"]
    out["w_out"] = np.ascontiguousarray(w["linear.weight"].T)
    out["b_out"] = w["linear.bias"]
    return out


def _sigmoid(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)) written as 0.5 * tanh(x / 2) + 0.5: no overflow, one transcendental
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def embed(mels: np.ndarray) -> np.ndarray:
    """(batch, 256) L2-normalised embeddings of (batch, frames, 40) mel spectra (frames = 160 normally).

    The embedding is ReLU(linear(h)) of the last LSTM layer's final hidden state, as in
    ``resemblyzer.VoiceEncoder.forward``; torch's gate order (input, forget, cell, output).
    """
    w = load_weights()
    x = np.asarray(mels, np.float32)
    batch, steps, _ = x.shape
    if batch == 0:
        return np.zeros((0, HIDDEN), np.float32)
    gates = np.empty((batch, 4 * HIDDEN), np.float32)
    act = np.empty_like(gates)
    for layer in range(LAYERS):
        pre = (x.reshape(batch * steps, -1) @ w[f"w_ih{layer}"] + w[f"b{layer}"]).reshape(batch, steps, -1)
        w_hh = w[f"w_hh{layer}"]
        h = np.zeros((batch, HIDDEN), np.float32)
        c = np.zeros((batch, HIDDEN), np.float32)
        last = layer == LAYERS - 1
        seq = None if last else np.empty((batch, steps, HIDDEN), np.float32)
        for t in range(steps):
            np.matmul(h, w_hh, out=gates)
            gates += pre[:, t]
            _sigmoid(gates, act)  # i, f and o (the g quarter is overwritten next)
            np.tanh(gates[:, 2 * HIDDEN : 3 * HIDDEN], out=act[:, 2 * HIDDEN : 3 * HIDDEN])
            c *= act[:, HIDDEN : 2 * HIDDEN]
            c += act[:, :HIDDEN] * act[:, 2 * HIDDEN : 3 * HIDDEN]
            np.tanh(c, out=h)
            h *= act[:, 3 * HIDDEN :]
            if seq is not None:
                seq[:, t] = h
        if seq is not None:
            x = seq
    out = np.maximum(h @ w["w_out"] + w["b_out"], 0.0)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norm, 1e-12)
