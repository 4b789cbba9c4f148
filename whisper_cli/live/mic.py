"""The microphone through PortAudio (sounddevice, the [mic] extra): devices listed, one picked, read."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from whisper_cli.core.errors import AudioError, first_line

NAME = "<mic>"
BLOCK_SECONDS = 0.1  # PortAudio hands over audio this often: small, so text is not held up


@dataclass(frozen=True, slots=True)
class InputDevice:
    """One PortAudio device that records."""

    index: int
    name: str
    channels: int
    rate: int
    default: bool = False

    def describe(self) -> str:
        """One line for --list-mics: number, name, channels, rate, and whether it is the default."""
        mark = "  (default)" if self.default else ""
        return f"{self.index:>3}  {self.name}  [{self.channels} ch, {self.rate} Hz]{mark}"


def _sounddevice() -> Any:
    """The sounddevice module, or one line saying what to install."""
    try:
        import sounddevice
    except ImportError:
        raise AudioError(NAME, "needs the [mic] extra: pip install 'whisper-ct2-cli[mic]'") from None
    except OSError:  # sounddevice imports, then cannot find libportaudio
        raise AudioError(
            NAME, "the PortAudio library is missing (Debian: apt-get install libportaudio2)"
        ) from None
    return sounddevice


def input_devices() -> list[InputDevice]:
    """Every device with an input channel, the system's default marked."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise AudioError(NAME, f"cannot list devices ({exc})") from None
    return [
        InputDevice(i, d["name"], d["max_input_channels"], int(d["default_samplerate"]), i == default)
        for i, d in enumerate(devices)
        if d["max_input_channels"] > 0
    ]


def pick_device(devices: list[InputDevice], wanted: str | None) -> InputDevice:
    """The device ``wanted`` names (its number, or part of its name), or the default one.

    Raises:
        AudioError: none, or several, match; there is no input device at all.
    """
    if not devices:
        raise AudioError(NAME, "no microphone or other input device found (--list-mics lists them)")
    if wanted is None:
        return next((d for d in devices if d.default), devices[0])
    if wanted.strip().isdigit():
        found = [d for d in devices if d.index == int(wanted)]
    else:
        found = [d for d in devices if wanted.strip().lower() in d.name.lower()]
    if len(found) == 1:
        return found[0]
    many = f"{len(found)} input devices match" if found else "no input device matches"
    raise AudioError(NAME, f"{many} --mic-device {wanted!r} (--list-mics lists them)")


def mic_blocks(wanted: str | None) -> Iterator[np.ndarray]:
    """Open the device now (so a missing or busy one fails before the model loads) and
    return its audio as 16 kHz mono float32 blocks, read as PortAudio delivers them."""
    from whisper_cli.live.pcm import Resampler

    sd = _sounddevice()
    device = pick_device(input_devices(), wanted)
    blocks: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()

    def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        blocks.put(indata[:, 0].copy())  # PortAudio's thread: copy, queue, return

    try:
        stream = sd.InputStream(
            device=device.index,
            channels=1,
            samplerate=device.rate,
            dtype="float32",
            blocksize=int(device.rate * BLOCK_SECONDS),
            callback=callback,
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(NAME, f"{device.name}: cannot record ({first_line(exc)})") from None
    return _read(stream, blocks, Resampler(device.rate))


def _read(stream: Any, blocks: queue.SimpleQueue[np.ndarray], resampler: Any) -> Iterator[np.ndarray]:
    with stream:
        while stream.active:
            try:
                block = blocks.get(timeout=1.0)
            except queue.Empty:
                continue
            yield from resampler.feed(block)
