#!/usr/bin/env bash
# CPU cost of the runtime monitor over a 60-second run: the CPU time of
# finsandbox and everything it starts (docker run, docker stats, inspect
# calls), and of the engine daemons, with the monitor off and on.
# Needs a release build (cargo build --release) and a running engine.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'import time\ntime.sleep(60)\n\ndef strategy(data):\n    return data.get("close") > 0\n' > "$work/sleep60.py"
printf 'cleanup: {sweep_on_start: false}\nmonitoring: {enabled: false}\n' > "$work/off.yaml"
printf 'cleanup: {sweep_on_start: false}\n' > "$work/on.yaml"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }   # utime+stime, clock ticks
hz=$(getconf CLK_TCK)
for mode in off on; do
  d0=$(ticks "$(pgrep -xo dockerd)"); c0=$(ticks "$(pgrep -xo containerd)")
  cpu=$( { TIMEFORMAT='%U+%S'; time target/release/finsandbox exec "$work/sleep60.py" \
      --data examples/market.parquet --json --config "$work/$mode.yaml" --timeout 120 > "$work/$mode.json"; } 2>&1 )
  d1=$(ticks "$(pgrep -xo dockerd)"); c1=$(ticks "$(pgrep -xo containerd)")
  samples=$(python3 -c "import json; print(json.load(open('$work/$mode.json'))['resources']['samples'])")
  echo "monitor $mode: finsandbox+children $(echo "$cpu" | bc) s, dockerd $(echo "scale=2; ($d1-$d0)/$hz" | bc) s, containerd $(echo "scale=2; ($c1-$c0)/$hz" | bc) s, samples $samples"
done
