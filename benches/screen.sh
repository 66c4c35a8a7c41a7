#!/usr/bin/env bash
# The whole `finsandbox validate` process next to bandit on the same
# 1,000-line file. Needs hyperfine (Debian) and bandit (`pip install bandit`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench screen
cargo build --release --quiet
file=target/bench/strategy_1000.py
hyperfine --warmup 3 --runs 30 -N -i \
  "target/release/finsandbox validate $file" \
  "bandit -q $file"
