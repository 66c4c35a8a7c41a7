#!/usr/bin/env bash
# Machine CPU per strategy (not wall time): on a machine where both sides are
# CPU-bound, throughput is the inverse of this. Busy time of the whole machine
# from /proc/stat (user+nice+system+irq+softirq+steal), so dockerd,
# containerd, the shims, runc, the CLIs and the containers all count.
# Interleaved pairs; never a timed test: the numbers go to
# docs/performance.md ("The floor").
#
#   benches/cpu_per_run.sh [N=50] [PAIRS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
PAIRS=${2:-2}
BIN=${FINSANDBOX:-target/release/finsandbox}
[ -x "$BIN" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" seccomp show > "$work/seccomp.json" 2>/dev/null
cp examples/market.parquet "$work/market.parquet"
chmod 644 "$work/market.parquet"
mkdir -p "$work/strategies"
srcs=(examples/momentum.py examples/finlab_style.py tests/screening/accepted/*.py)
i=0
while [ "$i" -lt "$N" ]; do
  for s in "${srcs[@]}"; do
    [ "$i" -ge "$N" ] && break
    cp "$s" "$work/strategies/$(printf '%03d' "$i")_$(basename "$s")"
    i=$((i + 1))
  done
done
hardened=(--network none --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev,size=1g --cpus 0.5
  --memory 2g --memory-swap 2g --pids-limit 100 --user 1000:1000 --cap-drop ALL
  --security-opt no-new-privileges --security-opt "seccomp=$work/seccomp.json"
  --mount "type=bind,source=$work/market.parquet,target=/data/market,readonly")
read_data="import pandas, pyarrow.parquet as pq; pq.read_table('/data/market').to_pandas()"

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# per_item LABEL COUNT COMMAND...: machine CPU-seconds per item, and wall.
per_item() {
  local label=$1 count=$2
  shift 2
  local b0 b1 t0 t1
  b0=$(busy)
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  b1=$(busy)
  t1=$(date +%s.%N)
  python3 -c "print('%-58s %.3f CPU-s per item   wall %.1f s' % ('$label', ($b1 - $b0) / $(getconf CLK_TCK) / $count, $t1 - $t0))"
}
baseline_par4() {
  seq "$N" | xargs -P 4 -I{} docker run --rm "${hardened[@]}" finsandbox-runtime:1 python3 -I -B -c "$read_data"
}
bare_loop() {
  for _ in $(seq 10); do docker run --rm "${hardened[@]}" finsandbox-runtime:1 python3 -I -B -c pass; done
}
import_cpu() { # the CPU of the imports alone, inside the container (getrusage)
  docker run --rm "${hardened[@]}" "$@" finsandbox-runtime:1 python3 -I -B -c \
    "import sys; sys.argv[1] == '1' and sys.modules.__setitem__('pyarrow', None); import resource, pandas; r = resource.getrusage(resource.RUSAGE_SELF); print('%.3f' % (r.ru_utime + r.ru_stime))" "${BLOCK:-}"
}

echo "== $N strategies (the examples and the accepted corpus, repeated): finsandbox batch vs the baseline through xargs -P 4"
for _ in $(seq "$PAIRS"); do
  per_item "finsandbox batch --jobs 2" "$N" "$BIN" --quiet batch "$work/strategies" --data "$work/market.parquet" --jobs 2 --json
  per_item "baseline docker run (pandas + the data), xargs -P 4" "$N" baseline_par4
done
echo "== the floor's parts"
per_item "engine lifecycle: docker run --rm ... python3 -c pass" 10 bare_loop
echo "import pandas, OpenBLAS default:                 $(import_cpu) CPU-s"
echo "import pandas, OPENBLAS_NUM_THREADS=1:           $(import_cpu -e OPENBLAS_NUM_THREADS=1) CPU-s"
echo "import pandas, one BLAS thread, pyarrow kept out: $(BLOCK=1 import_cpu -e OPENBLAS_NUM_THREADS=1) CPU-s"
