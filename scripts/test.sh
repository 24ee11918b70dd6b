#!/usr/bin/env bash
# Lint, type-check and run the whole test suite (JACK-based tests start their own jackd -d dummy).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
# a JACK server that does not start fails the real-time tests instead of skipping them
export BACKLINE_REQUIRE_JACK=1
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
