#!/usr/bin/env bash
# Fuzzes what parses hostile bytes with libFuzzer, for as long as asked:
#   ops/fuzz.sh lines [seconds]   the client protocol: line framer and every parser
#   ops/fuzz.sh bus [seconds]     the bus: batches, envelopes, field checks
# Builds with -sanitize=fuzzer,address into .build-fuzz/ (kept out of the package build);
# the corpus grows in .build-fuzz/corpus-<target>/, a crashing input lands in .build-fuzz/.
# The suite's seeded random-input tests cover the same code on every run; this goes deeper.
set -euo pipefail
target=${1:-lines}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/.build-fuzz
mkdir -p "$out/modules" "$out/corpus-$target"
cd "$root"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -I "$out/modules")

library() { # name, sources...
    local name=$1; shift
    swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
        -emit-library -static -o "$out/lib$name.a" "$@"
}

library ChatProtocol Sources/ChatProtocol/*.swift
case $target in
    lines)
        entry=Tests/Fuzz/ClientLinesFuzzer.swift
        libraries=("$out/libChatProtocol.a")
        ;;
    bus)
        # The codec and the checks only: the loop and its sockets are not needed to parse.
        library ChatBus Sources/ChatBus/{BusEnvelope,BusMessage,BusMessage+Codec,BusMessage+Validation,BusReader,BusWriter,PairKey,PartitionMap,Partitioning}.swift
        entry=Tests/Fuzz/BusEnvelopeFuzzer.swift
        libraries=("$out/libChatBus.a" "$out/libChatProtocol.a")
        ;;
    *) echo "usage: $0 lines|bus [seconds]" >&2; exit 2 ;;
esac
swiftc "${flags[@]}" -module-name "Fuzz_$target" "$entry" "${libraries[@]}" -o "$out/fuzz-$target"
"$out/fuzz-$target" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$out/" "$out/corpus-$target"
