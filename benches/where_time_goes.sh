#!/usr/bin/env bash
# Where the time of one `finsandbox exec` goes, phase by phase, on this
# machine: the host's phases from the moments each engine CLI call starts
# (strace's execve timestamps), the container's trusted phase split by
# running its steps alone in the same image at the warm-up's CPU limit.
#
#   benches/where_time_goes.sh [RUNS=3]
#
# Needs strace (Debian's package). Never a timed test: the numbers go to
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=${FINSANDBOX:-target/release/finsandbox}
[ -x "$BIN" ] || cargo build --release --quiet
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'def strategy(data):\n    return data.get("close") > 0\n' > "$work/trivial.py"

echo "== host phases of one exec (seconds from the CLI's start; mean of $RUNS)"
for r in $(seq "$RUNS"); do
  strace -f -ttt -e trace=execve,exit_group -o "$work/trace.$r" \
    "$BIN" --quiet exec "$work/trivial.py" --data examples/market.parquet --json > "$work/result.$r.json"
done
python3 - "$work" "$RUNS" <<'PY'
import json, re, sys
work, runs = sys.argv[1], int(sys.argv[2])
phases = {}
def add(k, v):
    phases.setdefault(k, []).append(v)
for r in range(1, runs + 1):
    t0 = None; marks = {}; end = None
    for line in open(f"{work}/trace.{r}"):
        m = re.match(r"(\d+)\s+([\d.]+)\s+(\S+)\((.*)", line)
        if not m:
            continue
        pid, ts, call, rest = m.group(1), float(m.group(2)), m.group(3), m.group(4)
        if t0 is None:
            t0 = ts
        if call == "execve" and "docker" in rest.split(",")[0]:
            args = re.findall(r'"([^"]*)"', rest)[2:]  # after the path and argv[0]
            verb = " ".join(args[:2])
            for key, want in [("preflight: docker version", "version"), ("preflight: orphan sweep (docker ps)", "ps "),
                              ("preflight: image inspect", "image inspect"), ("docker run started", "run "),
                              ("READY seen: docker update --cpus", "update "), ("container exited: inspect State", "container inspect"),
                              ("removal: docker rm", "rm ")]:
                if verb.startswith(want) and key not in marks:
                    if want == "container inspect" and "{{json .State}}" not in args:
                        continue
                    marks[key] = ts - t0
        if call == "exit_group" and pid == open(f"{work}/trace.{r}").readline().split()[0]:
            end = ts - t0
    res = json.load(open(f"{work}/result.{r}.json"))
    for k, v in marks.items():
        add(k, v)
    add("CLI exit", end if end is not None else float("nan"))
    add("startup_s (container start to READY, from the result)", res["startup_s"])
    add("execution_time_s (strategy sent to exit, from the result)", res["execution_time_s"])
for k, v in phases.items():
    print(f"  {sum(v)/len(v):7.3f}  {k}")
PY

echo "== the trusted phase alone, in the same image (full CPU, as the warm-up runs)"
docker run --rm --network none finsandbox-runtime:1 python3 -I -B -c '
import time, resource
t = time.perf_counter()
def lap(what):
    global t
    now = time.perf_counter(); print(f"  {now - t:7.3f}  {what}"); t = now
import json, struct, threading
lap("interpreter start + stdlib")
import numpy
lap("import numpy")
import pandas
lap("import pandas (pulls in pyarrow)")
import pyarrow.parquet as pq
lap("import pyarrow.parquet")
' 
docker run --rm --network none -v "$PWD/examples/market.parquet:/data/market.parquet:ro" finsandbox-runtime:1 python3 -I -B -c '
import time, pandas, pyarrow.parquet as pq
t = time.perf_counter()
f = pq.read_table("/data/market.parquet").to_pandas()
w = f.pivot_table(index="date", columns="symbol", values="close")
print(f"  {time.perf_counter() - t:7.3f}  read the data and pivot one field ({len(f)} rows)")
'
