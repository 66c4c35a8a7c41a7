#!/usr/bin/env bash
# Run every fuzz target for a bounded time (default 25 s each; FUZZ_SECONDS
# overrides), starting from the committed regression corpus in
# fuzz/corpus/<target>/. New inputs go to a scratch directory, so the
# committed corpus changes only by hand. A crash leaves its input under
# fuzz/artifacts/<target>/ and fails the script; add the input to the
# corpus once fixed, and it replays as an ordinary test on stable
# (tests/integration/hostile_inputs.rs and the stats unit tests).
#
# cargo-fuzz needs unstable compiler flags (sanitizers, -Zsanitizer-coverage
# options); on the stable toolchain RUSTC_BOOTSTRAP=1 enables them for this
# build only. The fuzz crate is its own workspace: the main crate's build
# never sees libFuzzer.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-25}"
targets=(position frames stats config)
if [ "$#" -gt 0 ]; then
  targets=("$@")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

export RUSTC_BOOTSTRAP=1
echo "==> building fuzz targets"
cargo fuzz build -O

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "==> fuzzing $t for ${seconds}s"
  # -rss_limit_mb: a decoder that allocates what a header claims fails here.
  # -timeout: one input taking over 10 s is a hang.
  if ! cargo fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
      >"$scratch/$t.log" 2>&1; then
    failed=1
    echo "error: fuzz target $t failed:" >&2
    tail -n 40 "$scratch/$t.log" >&2
  else
    grep -E '^stat::number_of_executed_units|^Done' "$scratch/$t.log" || true
  fi
done
if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
