#!/usr/bin/env bash
# Build the release binary and run every benchmark scenario; prints the
# target / measured / pass table and writes it to target/bench/table.md.
#   bench/run.sh            full run (1M-request memory run: several minutes)
#   bench/run.sh --quick    smaller request counts (100k memory run)
#   bench/run.sh --big 100000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "taskset is missing: apt-get install util-linux" >&2; exit 1; }
cargo build --release --bin evalgate
cargo bench --bench harness -- --bin target/release/evalgate --out target/bench "$@"
