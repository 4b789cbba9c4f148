"""The engine's decoding thresholds, shared by the engine adapter and the clip checks."""

# With VAD, these keep silence and noise from turning into invented words ("Thank you.",
# "You"); faster-whisper's own defaults. Here, not in whisper.py, so that crossfile.py can
# read them without importing the module that imports it. The third, the no-speech
# probability, is a decoding option (DecodeOptions.no_speech_threshold, --no-speech-threshold):
# the engine and the clip checks both read it from the options.
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
