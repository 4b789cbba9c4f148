"""Conversations and stereo calls built from real clips of distinct speakers in ../shared/eval."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from whisper_cli.diarize.turns import Turn
from whisper_cli.diarize.vad import VAD_FRAME, SpeechProbs, speech_mask

EVAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "eval"
RATE = 16000

# Distinct speakers (LibriSpeech speaker ids, one LibriVox reader, JFK) and their clips.
SPEAKERS: dict[str, tuple[str, ...]] = {
    "ls1272": ("en_ls_dev_1272-128104-0000", "en_ls_dev_1272-141231-0002"),
    "ls2412": ("en_ls_dev_2412-153948-0000",),
    "ls251": ("en_ls_dev_251-137823-0002", "en_ls_dev_251-137823-0003", "en_ls_dev_251-118436-0001"),
    "ls3536": ("en_ls_dev_3536-23268-0010",),
    "ls1995": ("en_ls_test_1995-1837-0001",),
    "ls1089": ("en_ls_test_1089-134686-0002",),
    "ls1221": ("en_ls_test_1221-135766-0001", "en_ls_test_1221-135766-0002"),
    "librivox": tuple(f"en_librivox_ss01_{n:04d}" for n in (870, 880, 890, 920, 930)),
    "jfk": ("en_jfk_inaugural_1961",),
}


def eval_present() -> bool:
    """Whether ../shared/eval is there."""
    return (EVAL_DIR / "manifest.jsonl").is_file()


def _energy_db(audio: np.ndarray, hop: int = 160) -> np.ndarray:
    """Level of each 10 ms frame in dB."""
    n = audio.size // hop
    frames = audio[: n * hop].reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def _trim(audio: np.ndarray, floor_db: float = 35.0) -> np.ndarray:
    """``audio`` without the leading and trailing stretch quieter than its peak frame minus ``floor_db``."""
    db = _energy_db(audio)
    loud = np.flatnonzero(db > db.max() - floor_db)
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] * 160 : (loud[-1] + 1) * 160]


def speaker_pool(name: str) -> np.ndarray:
    """All clips of one speaker, trimmed, joined with 0.3 s of silence, at -25 dBFS mean level."""
    parts = []
    for clip in SPEAKERS[name]:
        audio, rate = sf.read(EVAL_DIR / "audio" / f"{clip}.flac", dtype="float32")
        assert rate == RATE
        parts += [_trim(audio), np.zeros(RATE * 3 // 10, np.float32)]
    pool = np.concatenate(parts)
    rms = np.sqrt(np.mean(pool[np.abs(pool) > 1e-4] ** 2))
    return (pool * (10 ** (-25 / 20) / rms)).astype(np.float32)


def _spans(piece: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of the speech in ``piece`` heard on its own: Silero VAD frames (32 ms), the
    same hysteresis and gap rules as the diarizer's (see ``speech_mask``)."""
    vad = SpeechProbs()
    mask = speech_mask(np.concatenate((vad.feed(piece), vad.flush())))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a) * VAD_FRAME, min(int(b) * VAD_FRAME, piece.size)) for a, b in edges.reshape(-1, 2)]


@dataclass
class _Cursor:
    """Where the next turn of one speaker starts in its pool."""

    pool: np.ndarray
    at: int = 0

    def take(self, seconds: float) -> np.ndarray:
        """About ``seconds`` of speech, cut at the quietest 10 ms near that length, trimmed."""
        want = int(seconds * RATE)
        if self.at + want > self.pool.size:
            self.at = 0  # start over: the pool is reused
        db = _energy_db(self.pool[self.at :])
        lo, hi = max(1, (want - RATE // 2) // 160), min(db.size, (want + RATE // 2) // 160)
        cut = (lo + int(np.argmin(db[lo:hi]))) * 160 if hi > lo else db.size * 160
        piece = _trim(self.pool[self.at : self.at + cut])
        self.at += cut
        return piece


def conversation(
    names: list[str], seconds: float, seed: int, *, shortest: float = 1.0, longest: float = 10.0
) -> tuple[np.ndarray, list[Turn]]:
    """A mono conversation of about ``seconds`` and its reference turns (speaker = index in ``names``).

    Turns of ``shortest``..``longest`` seconds from speakers taken at random (never the same
    twice running, each speaker at least once), 0.2-0.8 s of pause between, each speaker at
    its own level (-30..-20 dBFS). The reference turns are the speech in each piece as Silero VAD
    hears it on the piece alone: the reference is exact about who speaks, and as good as that VAD
    about where speech stops inside a turn.
    """
    rng = np.random.default_rng(seed)
    cursors = [_Cursor(speaker_pool(n)) for n in names]
    gains = 10 ** (rng.uniform(-5, 5, len(names)) / 20)
    order = list(rng.permutation(len(names)))
    parts: list[np.ndarray] = []
    turns: list[Turn] = []
    t, last = 0, -1
    while t < seconds * RATE or order:
        who = int(order.pop()) if order else int(rng.choice([i for i in range(len(names)) if i != last]))
        piece = cursors[who].take(rng.uniform(shortest, longest)) * gains[who]
        if piece.size < RATE // 4:
            continue
        gap = np.zeros(int(rng.uniform(0.2, 0.8) * RATE), np.float32)
        parts += [gap, piece]
        t += gap.size
        turns += [Turn((t + a) / RATE, (t + b) / RATE, int(who)) for a, b in _spans(piece)]
        t += piece.size
        last = who
    parts.append(np.zeros(RATE // 2, np.float32))
    return np.concatenate(parts).astype(np.float32), turns


def stereo_call(
    names: tuple[str, str], seconds: float, seed: int, *, bleed_db: float = -20.0
) -> tuple[np.ndarray, np.ndarray, list[Turn]]:
    """A two-channel call: speaker 0 on the left, 1 on the right, each leaking into the other channel
    at ``bleed_db``, with a little noise on both; and its reference turns."""
    mono, turns = conversation(list(names), seconds, seed, shortest=1.0, longest=6.0)
    left = np.zeros_like(mono)
    right = np.zeros_like(mono)
    owner = np.full(mono.size, -1, np.int8)
    for turn in turns:
        owner[int(turn.start * RATE) : int(turn.end * RATE)] = turn.speaker
    # pauses inside a turn stay on the talker's channel: fill each gap with the speaker before it
    last = np.maximum.accumulate(np.where(owner >= 0, np.arange(mono.size), 0))
    owner = np.where(owner >= 0, owner, owner[last])
    left[owner == 0] = mono[owner == 0]
    right[owner == 1] = mono[owner == 1]
    leak = 10 ** (bleed_db / 20)
    noise = np.random.default_rng(seed).normal(0, 10 ** (-60 / 20), (2, mono.size)).astype(np.float32)
    return left + leak * right + noise[0], right + leak * left + noise[1], turns
