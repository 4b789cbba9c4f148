"""Checked, frozen settings for one run, built from the CLI's options before anything loads."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from whisper_cli.core.errors import UsageError
from whisper_cli.core.transcript import DecodeOptions, DiarizeOptions
from whisper_cli.decode.options import check_model_language, decode_options
from whisper_cli.decode.whisper import ModelSpec
from whisper_cli.diarize.options import diarize_options
from whisper_cli.models.resolve import MODEL_SIZES, unknown_model
from whisper_cli.writers import WriterOptions, expand_formats

log = logging.getLogger(__name__)

_LAYOUT = ("max_line_width", "max_line_count", "max_words_per_line", "max_cue_duration", "min_cue_duration")
# The writer options that shape each format's text; the rest of it comes from decoding.
FORMAT_OPTIONS: dict[str, tuple[str, ...]] = {
    "srt": (*_LAYOUT, "highlight_words"),
    "vtt": (*_LAYOUT, "highlight_words"),
    "tsv": ("tsv_words",),
}


RAW_FORMATS = ("s16le", "s32le", "f32le", "u8")  # --raw-format: PCM sample encodings read from stdin


@dataclass(frozen=True, slots=True)
class RawFormat:
    """Headerless PCM on stdin: sample encoding, rate and channel count."""

    encoding: str = "s16le"
    rate: int = 16_000
    channels: int = 1


DRAFT_BEAM_SIZE = 2  # a live draft's beam when --beam-size is not given (LiveSettings)


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """A live run: stdin (WAV, raw PCM or a streamable container) or a microphone."""

    raw: RawFormat | None = None  # None: stdin's format is found from its first bytes
    mic: bool = False
    mic_device: str | None = None  # index or part of a name; None: the system's default input
    # Beam width of a draft, a decode committed only when the next one agrees (windows that
    # may commit at once use --beam-size); why 2, not 1 or 5: docs/live.md, Measured.
    draft_beam_size: int = DRAFT_BEAM_SIZE


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything a run needs, already validated."""

    inputs: tuple[str, ...]
    from_file: str | None
    recursive: bool
    model: ModelSpec
    decode: DecodeOptions
    formats: tuple[str, ...]
    output_dir: Path | None
    overwrite: bool
    report: Path | None
    writer: WriterOptions
    quiet: bool
    verbose: bool
    debug: bool
    live: LiveSettings | None = None  # --live or --mic: a stream transcribed as it arrives (live/run.py)
    diarize: DiarizeOptions | None = None  # --diarize: speaker labels (diarize/)
    ray: str | None = None  # --ray ADDRESS: local, auto, HOST:PORT or ray://HOST:PORT (cluster/executor.py)
    ray_token_file: Path | None = None  # --ray-token-file: the cluster's token (cluster/auth.py)
    stream: bool = False  # -o -: every input's transcript to stdout, nothing on disk, no ledger
    print_times: bool = False  # each segment on stderr, [00:00.000 --> 00:03.720] text

    def describe(self) -> dict[str, Any]:
        """The settings worth recording in a --report file."""
        return {
            "model": self.model.model,
            "device": self.model.device,
            "compute_type": self.model.compute_type,
            "workers": self.model.workers,
            "batch_size": self.decode.batch_size,
            "language": self.decode.language,
            "task": self.decode.task.value,
            "beam_size": self.decode.beam_size,
            "vad": self.decode.vad,
            "level": self.decode.level,
            "word_timestamps": self.decode.word_timestamps,
            **{name: getattr(self.decode, name) for name in _ADDED_DECODING},
            "formats": list(self.formats),
            "output_dir": "-" if self.stream else None if self.output_dir is None else str(self.output_dir),
            "ray": self.ray,
            "diarize": None if self.diarize is None else asdict(self.diarize),
        }

    def fingerprint(self, fmt: str) -> str:
        """A short hash of everything that shapes output ``fmt``'s text: the model, device and
        compute type, every decoding option, and the format's own options. Worker and
        thread counts are left out: they change the speed, not the transcript."""
        model = self.model.model
        shape = {
            "format": fmt,
            "model": model if model in MODEL_SIZES else os.path.realpath(model),
            "device": self.model.device,
            # "auto" and "default" are one choice: fingerprints say "default", as before --help showed "auto"
            "compute_type": "default" if self.model.compute_type == "auto" else self.model.compute_type,
            "decode": _fingerprinted(self.decode),
            "writer": {name: getattr(self.writer, name) for name in FORMAT_OPTIONS.get(fmt, ())},
        }
        if self.diarize is not None:  # only then: the keys of runs without it stay as they were
            shape["diarize"] = asdict(self.diarize)
        text = json.dumps(shape, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


# Decoding options added after ledgers existed: in a fingerprint only when set, so that
# what earlier versions wrote with the same settings is still found done.
_ADDED_DECODING = (
    "best_of",
    "patience",
    "length_penalty",
    "hotwords",
    "no_speech_threshold",
    "hallucination_silence_threshold",
    "suppress_tokens",
    "one_window",
)
_DEFAULT_DECODING = DecodeOptions()


def _fingerprinted(decode: DecodeOptions) -> dict[str, Any]:
    return {
        name: value
        for name, value in asdict(decode).items()
        if name not in _ADDED_DECODING or value != getattr(_DEFAULT_DECODING, name)
    }


def build_settings(options: dict[str, Any]) -> RunSettings:
    """Check the CLI's options (a dict of its parameters) and freeze them.

    Raises:
        UsageError: a bad value or combination, said in one line.
    """
    o = options
    inputs = tuple(o["inputs"] or ())
    diarize = diarize_options(o, inputs)  # first: --live --diarize is said as what it is
    live = _live_settings(o, inputs)
    if not inputs and not o["from_file"] and live is None:
        raise UsageError("no input given: pass audio/video files, folders, globs or - for stdin (see --help)")
    if o["from_file"] == "-" and "-" in inputs:
        raise UsageError("stdin cannot carry both audio (-) and the --from-file list (--from-file -)")
    try:
        formats = expand_formats(o["output_format"] or ["txt"])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    decode = decode_options(o)
    if diarize is not None:  # a segment is split where its words change speaker: words are decoded
        diarize = replace(diarize, words=decode.word_timestamps)
        decode = replace(decode, word_timestamps=True)
    _check_model_name(o["model"])
    check_model_language(o["model"], decode)
    stream = _stream(o["output_dir"], formats)
    output_dir = None if stream else o["output_dir"]
    _check_output_dir(output_dir)  # --report is checked by report.ReportTarget, before any work
    return RunSettings(
        inputs=inputs,
        from_file=o["from_file"],
        recursive=o["recursive"],
        model=ModelSpec(
            model=o["model"],
            device=_value(o["device"]),
            compute_type=_value(o["compute_type"]),
            cpu_threads=o["cpu_threads"],
            workers=o["workers"],
        ),
        decode=decode,
        formats=formats,
        output_dir=output_dir,
        overwrite=o["overwrite"],
        report=o["report"],
        writer=WriterOptions(
            max_line_width=o["max_line_width"],
            max_line_count=o["max_line_count"],
            max_words_per_line=o["max_words_per_line"],
            max_cue_duration=o["max_cue_duration"],
            min_cue_duration=o["min_cue_duration"],
            highlight_words=o["highlight_words"],
            tsv_words=o["tsv_words"],
            named=stream,
            speakers=diarize is not None,
        ),
        quiet=o["quiet"],
        verbose=o["verbose"],
        debug=o["debug"],
        live=live,
        diarize=diarize,
        ray=_ray_address(o.get("ray")),
        ray_token_file=o.get("ray_token_file"),
        stream=stream,
        print_times=bool(o.get("print_times")),
    )


def _live_settings(o: dict[str, Any], inputs: tuple[str, ...]) -> LiveSettings | None:
    """--live/--mic checked against the rest: one stream in, one format out, on stdout."""
    mic, live = bool(o.get("mic")), bool(o.get("live"))
    raw_given = any(o.get(k) is not None for k in ("raw_format", "raw_rate", "raw_channels"))
    if not (mic or live):
        if raw_given or o.get("mic_device") is not None:
            raise UsageError("--raw-format, --raw-rate, --raw-channels and --mic-device need --live or --mic")
        return None
    if mic and inputs:
        raise UsageError("--mic takes no input: it transcribes the microphone")
    if not mic and inputs != ("-",):
        raise UsageError("--live reads one stream from stdin: give - as the only input (or use --mic)")
    if mic and raw_given:
        raise UsageError("--raw-format, --raw-rate and --raw-channels describe stdin; --mic needs none")
    if o.get("mic_device") is not None and not mic:
        raise UsageError("--mic-device needs --mic")
    clashes = [name for name, key in _NOT_LIVE if o.get(key)]
    if o.get("batch_size", 0) > 1:
        clashes.append("--batch-size")
    if clashes:
        raise UsageError(f"{', '.join(clashes)}: not with --live/--mic (the transcript streams to stdout)")
    with contextlib.suppress(ValueError):  # an unknown format is said by build_settings
        formats = expand_formats(o["output_format"] or ["txt"])
        if len(formats) != 1:
            raise UsageError("--live/--mic writes one format to stdout: give one -f")
    raw = None
    if raw_given:
        encoding, rate, channels = o.get("raw_format"), o.get("raw_rate"), o.get("raw_channels")
        raw = RawFormat(encoding or "s16le", rate or 16_000, channels or 1)
        if raw.encoding not in RAW_FORMATS:
            raise UsageError(f"--raw-format {raw.encoding}: choose from {', '.join(RAW_FORMATS)}")
    given = o.get("beam_size")
    return LiveSettings(
        raw=raw,
        mic=mic,
        mic_device=o.get("mic_device"),
        draft_beam_size=DRAFT_BEAM_SIZE if given is None else int(given),
    )


_NOT_LIVE = (
    ("--output-dir", "output_dir"),
    ("--report", "report"),
    ("--from-file", "from_file"),
    ("--recursive", "recursive"),
    ("--overwrite", "overwrite"),
    ("--print-times", "print_times"),
)


def _ray_address(address: str | None) -> str | None:
    if address is not None and not address.strip():
        raise UsageError("--ray needs an address: local, auto, HOST:PORT or ray://HOST:PORT")
    return None if address is None else address.strip()


def _value(choice: Any) -> str:
    return str(getattr(choice, "value", choice))


def _check_model_name(model: str) -> None:
    """A name that is neither a size nor a folder is a usage error, with the sizes it looks like."""
    message = unknown_model(model)
    if message is not None:
        raise UsageError(message)


def _check_output_dir(output_dir: Path | None) -> None:
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} exists and is not a folder")


def _stream(output_dir: Path | None, formats: tuple[str, ...]) -> bool:
    """Whether ``-o -`` asks for every transcript on stdout: one format, which names its file."""
    if output_dir is None or str(output_dir) != "-":
        return False
    if len(formats) > 1:
        raise UsageError(f"-o -: one format at a time on stdout (got {', '.join(formats)}); use -o DIR")
    return True
