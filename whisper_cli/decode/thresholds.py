"""The engine's decoding thresholds and its rules on them, for the adapter, the clip checks and live."""

# With VAD, these keep silence and noise from turning into invented words ("Thank you.",
# "You"); faster-whisper's own defaults. Here, not in whisper.py, so that crossfile.py can
# read them without importing the module that imports it. The third, the no-speech
# probability, is a decoding option (DecodeOptions.no_speech_threshold, --no-speech-threshold):
# the engine and the clip checks both read it from the options.
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4


def silent(avg_logprob: float, no_speech_prob: float, no_speech_threshold: float) -> bool:
    """faster-whisper's rule: a window the model calls non-speech, with low confidence in its text."""
    return no_speech_prob > no_speech_threshold and avg_logprob < LOG_PROB_THRESHOLD


def falls_back(avg_logprob: float, compression_ratio: float) -> bool:
    """faster-whisper's rule: a decode it tries again at the next temperature (unless silent)."""
    return compression_ratio > COMPRESSION_RATIO_THRESHOLD or avg_logprob < LOG_PROB_THRESHOLD
