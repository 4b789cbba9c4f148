#!/usr/bin/env bash
# Rebuild the sample clips from their texts with espeak-ng (Debian package espeak-ng)
# and ffmpeg. The clips are committed; run this only to change them.
#   hello.wav    16 kHz mono 16-bit WAV, about 8 s   (decoded by soundfile)
#   weather.mp3  22 kHz mono MP3, about 15 s         (decoded by PyAV)
#   lecture.flac 16 kHz mono FLAC, about 50 s        (several segments: streaming tests)
#   wetter_de.ogg  German, 16 kHz mono Ogg Vorbis, about 9 s (language detection)
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
speak() { espeak-ng -v "${2:-en-us}" -s "${3:-150}" -f "$1.txt" -w "$tmp/$1.wav"; }
speak hello
speak weather
speak lecture
speak wetter_de de 140
ffmpeg -v error -y -i "$tmp/hello.wav" -ar 16000 -ac 1 -c:a pcm_s16le hello.wav
ffmpeg -v error -y -i "$tmp/weather.wav" -ar 22050 -ac 1 -c:a libmp3lame -b:a 48k weather.mp3
ffmpeg -v error -y -i "$tmp/lecture.wav" -ar 16000 -ac 1 -c:a flac lecture.flac
ffmpeg -v error -y -i "$tmp/wetter_de.wav" -ar 16000 -ac 1 -c:a libvorbis -q:a 4 wetter_de.ogg
