"""--mic: device choice, a missing device in one line, real capture from a PulseAudio null sink's monitor."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli
from whisper_cli.core.errors import AudioError
from whisper_cli.live.mic import InputDevice, pick_device

SINK = "sink_name=speech rate=16000 channels=1"  # played into; its monitor is the microphone
SOURCE = "speech.monitor"
DEVICES = [
    InputDevice(0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", 2, 44100),
    InputDevice(3, "USB Headset Mono", 1, 16000),
    InputDevice(5, "default", 32, 44100, default=True),
]


def test_the_default_input_is_picked_when_none_is_named():
    assert pick_device(DEVICES, None).index == 5


@pytest.mark.parametrize(("wanted", "index"), [("3", 3), ("headset", 3), ("ALC257", 0), (" 0 ", 0)])
def test_a_device_is_picked_by_number_or_part_of_its_name(wanted, index):
    assert pick_device(DEVICES, wanted).index == index


@pytest.mark.parametrize(
    ("devices", "wanted", "cause"),
    [(DEVICES, "a", "3 input devices match"), (DEVICES, "7", "no input device matches"),
     ([], None, "no microphone")],
)  # fmt: skip
def test_no_or_several_matching_devices_is_an_error_naming_the_cause(devices, wanted, cause):
    with pytest.raises(AudioError, match=cause):
        pick_device(devices, wanted)


def test_a_missing_microphone_is_one_line_and_exit_1():
    """Real: without the [mic] extra, without PortAudio, or with no such device, one line, exit 1."""
    res = run_cli("--mic", "--mic-device", "no-such-device-here", "-m", "tiny.en", timeout=60)
    assert res.returncode == 1
    lines = res.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("whisper-cli: error: <mic>: "), lines
    assert res.stdout == b""


def _portaudio() -> str | None:
    """Why the PortAudio path cannot run here, or None."""
    if not all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay")):
        return "PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils)"
    probe = subprocess.run([sys.executable, "-c", "import sounddevice"], capture_output=True)
    if probe.returncode:
        return "sounddevice or libportaudio2 is missing (the [mic] extra; apt-get install libportaudio2)"
    return None


@pytest.fixture
def null_sink(tmp_path: Path):
    """A user PulseAudio daemon with a null sink named speech; its monitor is the default source."""
    if (why := _portaudio()) is not None:
        pytest.skip(why)
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path), "PULSE_SOURCE": SOURCE}
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
         "--load=module-native-protocol-unix", f"--load=module-null-sink {SINK}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(50):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.skip("pulseaudio did not start here")
        subprocess.run(["pactl", "set-default-source", SOURCE], env=env, check=True)
        yield env
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def test_speech_played_into_a_null_sink_is_transcribed_from_its_monitor(null_sink):
    env = {**null_sink, "PYTHONUNBUFFERED": "1"}
    listed = run_cli("--list-mics", env=env)
    assert listed.returncode == 0 and b"(default)" in listed.stdout, listed.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", "--mic", "-m", "tiny.en"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(3.0)  # the device is opened before the model loads; its audio waits in the buffer
        play = ["paplay", "--device=speech", str(SAMPLES / "hello.wav")]
        subprocess.run(play, env=env, check=True, timeout=30)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    text = out.decode().lower()
    assert "welcome" in text and "microphone" in text, (text, err.decode())
