"""The mel front end and the ONNX voice encoder against reference values and an independent numpy LSTM."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.diarize.conversations import EVAL_DIR, eval_present
from tests.diarize.numpy_encoder import embed as numpy_embed
from whisper_cli.diarize.encoder import embed
from whisper_cli.diarize.mel import mel_frames

requires_eval = pytest.mark.skipif(not eval_present(), reason="../shared/eval is not present")

# Reference values, computed once (2026-12-03) for 1.6 s of en_ls_dev_1272-128104-0000 starting at
# 1.0 s: the mel spectrum with librosa 0.11.0 (``librosa.feature.melspectrogram(y, sr=16000,
# n_fft=400, hop_length=160, n_mels=40)``, in a scratch virtualenv: librosa is not our
# dependency), and the embedding of its first 160 frames by tests/diarize/numpy_encoder.py (a
# plain numpy LSTM written from torch's LSTM equations) with the shipped weights.
MEL_FRAME_80 = [0.1095841, 1.1477205, 0.3932804, 0.2821753, 0.1634768, 0.4579752]
MEL_FRAME_80_SUM = 5.349729
EMBEDDING_FIRST_8 = [0.0, 0.0, 0.0806563, 0.0, 0.0, 0.1193363, 0.0, 0.0367112]
EMBEDDING_ARGMAX, EMBEDDING_TOP = 142, 0.2373189


def _clip(name: str) -> np.ndarray:
    audio, rate = sf.read(EVAL_DIR / "audio" / f"{name}.flac", dtype="float32")
    assert rate == 16000
    return audio


@requires_eval
@pytest.mark.eval
def test_mel_and_embedding_match_reference_values() -> None:
    audio = _clip("en_ls_dev_1272-128104-0000")[16000 : 16000 + 25600]
    mel, _ = mel_frames(np.pad(audio, 200))  # librosa centres frames: 200 zeros either side
    assert mel.shape == (161, 40)
    np.testing.assert_allclose(mel[80, :6], MEL_FRAME_80, rtol=1e-5)
    assert float(mel[80].sum()) == pytest.approx(MEL_FRAME_80_SUM, rel=1e-5)
    vector = embed(mel[None, :160])[0]
    np.testing.assert_allclose(vector[:8], EMBEDDING_FIRST_8, atol=1e-5)
    assert int(vector.argmax()) == EMBEDDING_ARGMAX
    assert float(vector.max()) == pytest.approx(EMBEDDING_TOP, abs=1e-5)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-5)


@requires_eval
@pytest.mark.eval
def test_onnx_encoder_equals_numpy_lstm_on_real_speech() -> None:
    mel, _ = mel_frames(_clip("en_ls_test_1221-135766-0001"))
    windows = np.stack([mel[s : s + 160] for s in range(0, mel.shape[0] - 160, 120)])
    np.testing.assert_allclose(embed(windows), numpy_embed(windows), atol=2e-5)


def _voice(name: str) -> np.ndarray:
    """Utterance embedding as Resemblyzer makes it: mean of 1.6 s partials, L2-normalised."""
    mel, _ = mel_frames(_clip(name))
    partials = embed(np.stack([mel[s : s + 160] for s in range(0, max(1, mel.shape[0] - 159), 80)]))
    mean = partials.mean(axis=0)
    return mean / np.linalg.norm(mean)


@requires_eval
@pytest.mark.eval
def test_same_speaker_is_closer_than_another() -> None:
    a1, a2 = _voice("en_ls_test_1221-135766-0001"), _voice("en_ls_test_1221-135766-0002")
    b1, b2 = _voice("en_librivox_ss01_0870"), _voice("en_librivox_ss01_0890")
    others = [_voice("en_ls_dev_2412-153948-0000"), _voice("en_jfk_inaugural_1961")]
    assert a1 @ a2 > 0.85 and b1 @ b2 > 0.85
    assert max(float(x @ y) for x in (a1, a2, b1, b2) for y in others) < 0.75
    assert max(float(a @ b) for a in (a1, a2) for b in (b1, b2)) < 0.75
