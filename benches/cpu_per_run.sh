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
N=${1:-50}
PAIRS=${2:-2}
source "$(dirname "$0")/common.sh"
copy_strategies "$work/strategies" "$N"

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
