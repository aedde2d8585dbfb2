#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests that start the real system.
set -euo pipefail
cd "$(dirname "$0")/.."
# The PostgreSQL tests start throwaway servers of their own, from Debian's packages.
ops/install-deps.sh --with-postgresql-server
swift build --build-tests
swift test --skip-build "$@"
