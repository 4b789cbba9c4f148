"""Resemblyzer's input features: 40-band mel power spectra of 25 ms windows every 10 ms, at 16 kHz.

Matches ``librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40)``
(periodic Hann window, power 2, Slaney mel scale and area normalisation, frames centred on
multiples of the hop, zero padding at the start of the stream) without librosa.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
_CHUNK = 500  # frames transformed at once


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    mel[log_part] = 15.0 + np.log(hz[log_part] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    hz = mel * (200.0 / 3)
    log_part = mel >= 15.0
    hz[log_part] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log_part] - 15.0))
    return hz


@functools.cache
def mel_filters() -> np.ndarray:
    """(40, 201) triangular filters, as ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)``."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([8000.0]))[0], N_MELS + 2)
    )
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, fft_freqs.size))
    for i in range(N_MELS):
        lower = -ramps[i] / widths[i]
        upper = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[:, None]
    return weights.astype(np.float32)


@functools.cache
def _window() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic Hann


def mel_frames(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mel power spectra (frames, 40) and mean power (frames,) of the whole 400-sample frames of ``audio``.

    Frame k covers ``audio[k*160 : k*160 + 400]``; to get librosa's centred frames, pad the start
    of the stream with 200 zeros. Both arrays are float32.
    """
    audio = np.asarray(audio, np.float32)
    if audio.size < N_FFT:
        return np.zeros((0, N_MELS), np.float32), np.zeros(0, np.float32)
    n = 1 + (audio.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        audio, (n, N_FFT), (HOP * audio.itemsize, audio.itemsize), writeable=False
    )
    mel = np.empty((n, N_MELS), np.float32)
    for a in range(0, n, _CHUNK):  # a chunk at a time: the FFT's temporaries stay small
        spectrum = np.fft.rfft(frames[a : a + _CHUNK] * _window(), axis=1)
        mel[a : a + _CHUNK] = (spectrum.real**2 + spectrum.imag**2).astype(np.float32) @ mel_filters().T
    energy = np.einsum("ij,ij->i", frames, frames) / N_FFT
    return mel, energy.astype(np.float32)
