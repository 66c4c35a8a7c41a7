#!/usr/bin/env bash
# Throughput of finsandbox against hand-written hardened `docker run`s of the
# same image with the same limits, measured in one run on this machine with
# hyperfine (interleaved, several runs each) and /usr/bin/time. Never a timed
# test: the numbers go to docs/performance.md.
#
#   benches/throughput.sh [N_BATCH=50] [RUNS=5]      (RSS_N=1000 adds the RSS run)
#
# The baseline container does the least any per-strategy runner must: start
# Python, import pandas and pyarrow, read the data. It runs with finsandbox's
# own hardening and limits (network none, read-only root, noexec tmpfs,
# 0.5 CPU, 2 GiB without swap, 100 pids, uid 1000, no capabilities,
# no-new-privileges, the embedded seccomp profile, the data read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
RUNS=${2:-5}
BIN=${FINSANDBOX:-target/release/finsandbox}
[ -x "$BIN" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" seccomp show > "$work/seccomp.json" 2>/dev/null
cp examples/market.parquet "$work/market.parquet"
chmod 644 "$work/market.parquet"

# The strategies: the examples and the accepted corpus, repeated to N files.
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
printf 'def strategy(data):\n    return data.get("close") > 0\n' > "$work/trivial.py"

hardened=(docker run --rm --network none --read-only
  --tmpfs /tmp:rw,noexec,nosuid,nodev,size=1g --cpus 0.5 --memory 2g --memory-swap 2g
  --pids-limit 100 --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges
  --security-opt "seccomp=$work/seccomp.json"
  --mount "type=bind,source=$work/market.parquet,target=/data/market,readonly"
  finsandbox-runtime:1 python3 -I -B -c
  "import pandas, pyarrow.parquet as pq; pq.read_table('/data/market').to_pandas()")
printf '%q ' "${hardened[@]}" > "$work/baseline.sh"
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
  mkdir -p "$work/many"
  i=0
  while [ "$i" -lt "$RSS_N" ]; do
    for s in "${srcs[@]}"; do
      [ "$i" -ge "$RSS_N" ] && break
      cp "$s" "$work/many/$(printf '%05d' "$i")_$(basename "$s")"
      i=$((i + 1))
    done
  done
  /usr/bin/time -f 'peak RSS %M KB, wall %e s' "$BIN" --quiet batch "$work/many" --data "$work/market.parquet" \
    --jobs 2 --out "$work/many.jsonl"
  echo "lines: $(wc -l < "$work/many.jsonl")"
fi
