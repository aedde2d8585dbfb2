#!/usr/bin/env bash
# Quick start: install what is missing, build release, run the whole system with the
# embedded defaults (port 7890, data under ./data). Extra arguments go to chatd,
# e.g. ops/start.sh --port 7000 --data-dir /var/lib/chat
set -euo pipefail
cd "$(dirname "$0")/.."
ops/install-deps.sh
swift build -c release
exec .build/release/chatd --config ops/chatd.toml "$@"
