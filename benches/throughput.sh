#!/usr/bin/env bash
# Throughput of finsandbox against hand-written hardened `docker run`s of the
# same image with the same limits, measured in one run on this machine with
# hyperfine (interleaved, several runs each) and /usr/bin/time. Never a timed
# test: the numbers go to docs/performance.md.
#
#   benches/throughput.sh [N_BATCH=50] [RUNS=5]      (RSS_N=1000 adds the RSS run)
#
# The baseline and the strategies: benches/common.sh.
set -euo pipefail
N=${1:-50}
RUNS=${2:-5}
source "$(dirname "$0")/common.sh"
copy_strategies "$work/strategies" "$N"
printf 'def strategy(data):\n    return data.get("close") > 0\n' > "$work/trivial.py"

printf '%q ' docker run --rm "${hardened[@]}" finsandbox-runtime:1 python3 -I -B -c "$read_data" > "$work/baseline.sh"
chmod +x "$work/baseline.sh"
# Sequential and 4-way parallel baselines over N strategies.
printf 'for i in $(seq %d); do bash %s >/dev/null; done\n' "$N" "$work/baseline.sh" > "$work/seq.sh"
printf 'seq %d | xargs -P 4 -I{} bash %s >/dev/null\n' "$N" "$work/baseline.sh" > "$work/par4.sh"

echo "== one strategy: finsandbox exec vs one hardened docker run (importing pandas, reading the data)"
hyperfine --warmup 2 --runs $((RUNS * 3)) -N \
  "bash $work/baseline.sh" \
  "$BIN --quiet exec $work/trivial.py --data $work/market.parquet --json"

echo "== $N strategies: batch --jobs 2 and 4 vs sequential and xargs -P 4 hardened docker runs"
hyperfine --warmup 1 --runs "$RUNS" \
  "bash $work/seq.sh" \
  "bash $work/par4.sh" \
  "$BIN --quiet batch $work/strategies --data $work/market.parquet --jobs 2 --json > /dev/null" \
  "$BIN --quiet batch $work/strategies --data $work/market.parquet --jobs 4 --json > /dev/null"

echo "== where the time of one run goes (finsandbox exec, startup_s / execution_time_s from the result)"
for _ in 1 2 3; do
  "$BIN" --quiet exec "$work/trivial.py" --data "$work/market.parquet" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("startup_s", d["startup_s"], "execution_time_s", d["execution_time_s"])'
done

# The CLI's own memory over a long batch (RSS_N=1000 benches/throughput.sh):
# the strategies are the same files, repeated; the result lines go to a file.
if [ -n "${RSS_N:-}" ]; then
  echo "== CLI peak RSS over a batch of $RSS_N strategies (--jobs 2)"
  copy_strategies "$work/many" "$RSS_N"
  /usr/bin/time -f 'peak RSS %M KB, wall %e s' "$BIN" --quiet batch "$work/many" --data "$work/market.parquet" \
    --jobs 2 --out "$work/many.jsonl"
  echo "lines: $(wc -l < "$work/many.jsonl")"
fi
