#!/usr/bin/env bash
# The Rust scorer against a pandas implementation of the same rules, on the
# same inputs, in the same session. Needs the sandbox image (for pinned pandas).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench score
docker run --rm --network none -v "$PWD/target/bench/score:/in:ro" -v "$PWD/benches:/b:ro" \
  finsandbox-runtime:1 python3 /b/score_pandas.py /in
