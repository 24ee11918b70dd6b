#!/usr/bin/env bash
# Set up backline on a fresh Debian/Ubuntu machine: system packages (FluidSynth, SoundFonts,
# espeak-ng, JACK), a virtual environment in .venv, and backline with every extra.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Needed: Python venv, FluidSynth + a GM SoundFont, espeak-ng (spoken cues).
REQUIRED="python3 python3-venv python3-pip python3-dev build-essential fluidsynth libfluidsynth3 fluid-soundfont-gm espeak-ng libsndfile1"
# Better sounds and the live/test tools; installed when the distribution has them.
OPTIONAL="musescore-general-soundfont avldrums.lv2-soundfont jackd2 libportaudio2 sox ffmpeg"

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  missing=""
  for p in $REQUIRED $OPTIONAL; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "backline setup: installing system packages:$missing"
    $SUDO apt-get update -qq
    available=""
    for p in $missing; do
      if apt-cache show "$p" >/dev/null 2>&1; then available="$available $p";
      else echo "backline setup: package $p is not available here, skipping"; fi
    done
    # jackd2 asks about real-time priority; answer for a non-interactive install.
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $available
  fi
else
  echo "backline setup: no apt-get here; install FluidSynth, a GM SoundFont and espeak-ng yourself" >&2
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all,dev]"
# TinySoundFont: the pip-only fallback synth (its PyAudio dependency is not needed).
.venv/bin/python -m pip install -q --no-deps "tinysoundfont>=0.3" || echo "backline setup: tinysoundfont not installed (no fallback synth)"
# basic-pitch ships its ONNX model; --no-deps keeps TensorFlow out (onnxruntime is in [analysis]).
.venv/bin/python -m pip install -q --no-deps "basic-pitch>=0.4" || echo "backline setup: basic-pitch not installed (melody transcription off)"
echo "backline setup: ready (.venv/bin/backline)"
