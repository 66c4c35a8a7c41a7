# Sourced by the throughput benches: the release binary, a private work
# directory (removed on exit), the strategies, and the hand-written hardened
# baseline `docker run` they are measured against.
#
# The baseline container does the least any per-strategy runner must: start
# Python, import pandas and pyarrow, read the data. It runs with finsandbox's
# own hardening and limits (network none, read-only root, noexec tmpfs,
# 0.5 CPU, 2 GiB without swap, 100 pids, uid 1000, no capabilities,
# no-new-privileges, the embedded seccomp profile, the data read-only).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${FINSANDBOX:-target/release/finsandbox}
[ -x "$BIN" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" seccomp show > "$work/seccomp.json" 2>/dev/null
cp examples/market.parquet "$work/market.parquet"
chmod 644 "$work/market.parquet"

# The hardening flags of the baseline, and its program.
hardened=(--network none --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev,size=1g --cpus 0.5
  --memory 2g --memory-swap 2g --pids-limit 100 --user 1000:1000 --cap-drop ALL
  --security-opt no-new-privileges --security-opt "seccomp=$work/seccomp.json"
  --mount "type=bind,source=$work/market.parquet,target=/data/market,readonly")
read_data="import pandas, pyarrow.parquet as pq; pq.read_table('/data/market').to_pandas()"

# copy_strategies DIR N: the examples and the accepted corpus, repeated to
# N files in DIR.
copy_strategies() {
  local dir=$1 n=$2 i=0 s
  local srcs=(examples/momentum.py examples/finlab_style.py tests/screening/accepted/*.py)
  mkdir -p "$dir"
  while [ "$i" -lt "$n" ]; do
    for s in "${srcs[@]}"; do
      [ "$i" -ge "$n" ] && break
      cp "$s" "$dir/$(printf '%05d' "$i")_$(basename "$s")"
      i=$((i + 1))
    done
  done
}
