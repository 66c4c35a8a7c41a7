#!/usr/bin/env python3
"""The cost of the harness's runtime policy (the audit hook) on the accepted corpus.

Runs every accepted strategy (examples/, tests/strategies/, the screen's accepted
corpus, tests/finlab/ when present) through the real harness in the sandbox
image, with `"runtime_policy": true` and `false` in the request, interleaved
(on, off, on, off, ...) so drift on a shared machine hits both alike. The
harness is timed from inside: a copy of src/harness/harness.py with a clock
around the policy install, the strategy and the position encoding (the part
the hook can slow down), reported in its summary. Also the wall time of the
whole `docker run`. Prints medians per strategy and over all runs.

    python3 benches/runtime_policy.py [RUNS] [DIR]
    (default 5 runs per mode; DIR/plain and DIR/finlab: `finsandbox data sample`
    and `data sample --finlab` output, 40 symbols, 3 years, made with
    target/release/finsandbox when missing; DIR defaults to target/bench)
"""

import json
import os
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_harness():
    # The harness program as the host composes it (src/harness/protocol.rs SOURCE).
    read = lambda name: open(os.path.join(ROOT, "src/harness", name)).read()
    src = read("harness.py") + "\n" + read("runtime_policy.py") + "\nmain()\n"
    start = "    refusals = []\n"
    end = "    finish_stdout(pump)\n"
    assert start in src and end in src, "harness.py changed: update the bench's clock points"
    src = src.replace(start, start + "    import time as _bench_time\n    _bench_t0 = _bench_time.perf_counter()\n", 1)
    src = src.replace(end, "    summary['bench_seconds'] = _bench_time.perf_counter() - _bench_t0\n" + end, 1)
    return src


# What the host's price_spec finds in each sample (`request_for` sends it).
PRICES = {
    "plain": {"close": "price:close", "open": "price:open", "adj_close": "price:adj_close"},
    "finlab": {"close": "price:收盤價", "open": "price:開盤價", "adj_close": "etl:adj_close"},
}


def run(harness, source, data, policy):
    request = {
        "protocol": 1, "source": source, "filename": "strategy.py",
        "compat": open(os.path.join(ROOT, "src/harness/finlab_compat.py")).read(),
        "data_path": "/data/market", "max_position_bytes": 1 << 28, "runtime_policy": policy,
        "aliases": json.load(open(os.path.join(ROOT, "src/harness/aliases.json")))["groups"],
        "run": {"fee_ratio": 0.001425, "tax_ratio": 0.003},
        "prices": PRICES[os.path.basename(data)],
    }
    args = [
        "docker", "run", "--rm", "-i", "--network", "none", "--read-only", "--user", "1000:1000",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--security-opt", "seccomp=" + os.path.join(ROOT, "seccomp/finsandbox.json"),
        "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m", "--cpus", "2",
        "--mount", f"type=bind,source={data},target=/data/market,readonly",
        "finsandbox-runtime:1", "python3", "-I", "-B", "-c", harness,
    ]
    t0 = time.perf_counter()
    out = subprocess.run(args, input=json.dumps(request).encode(), capture_output=True, check=False).stdout
    wall = time.perf_counter() - t0
    i, summary = 0, None
    while i + 8 <= len(out):
        n = struct.unpack(">I", out[i + 4:i + 8])[0]
        if out[i + 3:i + 4] == b"R":
            summary = json.loads(out[i + 8:i + 8 + n])
        i += 8 + n
    if not summary or summary.get("status") != "ok" or summary.get("runtime_policy_refusals"):
        raise SystemExit(f"run failed or refused something: {summary}")
    return summary["bench_seconds"], wall


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    base = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target/bench")
    files = []
    for flavour, dirs in ((None, ("examples", "tests/strategies", "tests/screening/accepted")), ("--finlab", ("tests/finlab",))):
        data = os.path.join(base, "finlab" if flavour else "plain")
        if not os.path.isdir(data):
            subprocess.run([os.path.join(ROOT, "target/release/finsandbox"), "data", "sample"] + ([flavour] if flavour else [])
                           + [data, "--symbols", "40", "--years", "3"], check=True, capture_output=True)
        for d in dirs:
            path = os.path.join(ROOT, d)
            if os.path.isdir(path):
                files += [(os.path.join(path, f), data) for f in sorted(os.listdir(path)) if f.endswith(".py") and f != "make_market.py"]
    harness = timed_harness()
    totals = {True: [], False: [], "wall_on": [], "wall_off": []}
    print(f"{'strategy':<40} {'off (s)':>9} {'on (s)':>9} {'diff':>8}")
    for f, data in files:
        source = open(f).read()
        got = {True: [], False: []}
        for _ in range(runs):
            for policy in (True, False):
                inner, wall = run(harness, source, data, policy)
                got[policy].append(inner)
                totals[policy].append(inner)
                totals["wall_on" if policy else "wall_off"].append(wall)
        on, off = statistics.median(got[True]), statistics.median(got[False])
        print(f"{os.path.relpath(f, ROOT):<40} {off:9.4f} {on:9.4f} {on - off:+8.4f}")
    on, off = statistics.median(totals[True]), statistics.median(totals[False])
    print(f"{'all runs (median)':<40} {off:9.4f} {on:9.4f} {on - off:+8.4f}")
    print(f"whole docker run, median: off {statistics.median(totals['wall_off']):.3f} s, "
          f"on {statistics.median(totals['wall_on']):.3f} s ({len(files)} strategies x {runs} runs per mode)")


main()
