"""Language identification: on the speech that is decoded, and on the whole recording when that is unsure.

The engine identifies the language on the first 30 s of the audio it is given, and
whisper-cli gives it only the speech (the VAD's chunks, laid end to end): better where a
recording opens with silence or music, but on a short clip whose language the model
hardly knows, cutting the quiet lead-in can tip the choice. On ../shared/eval's
``es_picovoice_cheetah`` (base, int8) Spanish led with 0.34-0.41 on the whole clip and
came second or third (0.08-0.23) on its speech, where Greek or Hindi won; the engine's
own VAD filter cuts the same way. Every other item was identified with more than 0.8
either way. So when no language is more likely than ``SURE`` on the speech, the first
30 s of the whole recording (levelled as the speech is: that kept Spanish ahead by more)
get an equal say: one more encoder pass, only for recordings the model is unsure of.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
WINDOW = 30 * SAMPLE_RATE  # the model identifies the language on one 30 s window
SURE = 0.5  # faster-whisper's language_detection_threshold: above it, one window settles the language

Probabilities = dict[str, float]
DetectFn = Callable[["np.ndarray"], Probabilities]  # one window's audio → each language's probability
IdentifyFn = Callable[["np.ndarray", "np.ndarray"], tuple[str, float]]  # (speech, whole) → choice


def identify(detect: DetectFn, speech: np.ndarray, whole: np.ndarray) -> tuple[str, float]:
    """The language and its probability, from the first 30 s of ``speech`` (what is
    decoded) and, when that is unsure, of ``whole`` (the recording, pauses and all) too:
    then the two windows' probabilities are averaged."""
    found = detect(speech[:WINDOW])
    if _best(found)[1] <= SURE and len(whole):
        log.debug("language on the speech unsure (%s %.2f): hearing the whole recording too", *_best(found))
        found = averaged(found, detect(whole[:WINDOW]))
    return _best(found)


def identifier(detect: DetectFn) -> IdentifyFn:
    """``identify`` bound to one model's ``detect``."""

    def identify_with(speech: np.ndarray, whole: np.ndarray) -> tuple[str, float]:
        return identify(detect, speech, whole)

    return identify_with


def averaged(first: Probabilities, second: Probabilities) -> Probabilities:
    """Each language's mean probability over two windows (absent: 0)."""
    return {lang: (first.get(lang, 0.0) + second.get(lang, 0.0)) / 2 for lang in first.keys() | second.keys()}


def _best(probabilities: Probabilities) -> tuple[str, float]:
    # a tie goes to the lower code, so the choice does not depend on the dict's order
    language = min(probabilities, key=lambda lang: (-probabilities[lang], lang))
    return language, probabilities[language]
