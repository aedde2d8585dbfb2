#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests that start the real system.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
