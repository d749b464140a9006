#!/usr/bin/env bash
# Build the binary (`profiling` profile: release code plus line tables, so
# `perf record` of a scenario names lines) and run every benchmark scenario;
# prints the target / measured / pass table and writes it to
# target/bench/table.md.
#   bench/run.sh            full run (1M-request memory run: several minutes)
#   bench/run.sh --quick    smaller request counts (100k memory run)
#   bench/run.sh --big 100000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "taskset is missing: apt-get install util-linux" >&2; exit 1; }
cargo build --profile profiling --bin evalgate
target_dir="${CARGO_TARGET_DIR:-target}"
cargo bench --bench harness -- --bin "$target_dir/profiling/evalgate" --out target/bench "$@"
