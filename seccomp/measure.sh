#!/usr/bin/env bash
# Measure the system calls the sandbox runtime really makes, and rebuild
# seccomp/finsandbox.json from them.
#
#   sudo seccomp/measure.sh [IMAGE]        (needs root, strace, docker, python3,
#                                           and a built finsandbox: cargo build)
#
# How: export the sandbox image's root filesystem, then run the real harness
# (with the finlab compatibility layer) on the sample dataset with each
# strategy of the accepted corpus (examples/, tests/strategies/,
# tests/screening/accepted/) under `strace -f`, as uid 1000, as the container runs it
# (`timeout ... python3 -I -B -c HARNESS`, request on stdin). The union of the
# calls seen is written to seccomp/measured.txt; seccomp/build_profile.py then
# adds the documented extras, removes the denied calls, and writes the profile.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-finsandbox-runtime:1}
work=$(mktemp -d /var/tmp/finsandbox-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/rootfs"
cid=$(docker create "$image" true)
docker export "$cid" | tar -C "$work/rootfs" -x
docker rm "$cid" >/dev/null
"${FINSANDBOX:-target/debug/finsandbox}" data sample "$work/rootfs/tmp/market" --symbols 40 --years 3
# The harness program as the host composes it (src/harness/protocol.rs SOURCE).
harness=$(cat src/harness/harness.py; echo; cat src/harness/runtime_policy.py; printf '\nmain()\n')
n=0
for s in examples/*.py tests/strategies/*.py tests/screening/accepted/*.py; do
  case "$s" in examples/make_market.py) continue ;; esac
  n=$((n + 1))
  python3 - "$s" > "$work/in.json" <<'PY'
import json, os, sys
path = sys.argv[1]
print(json.dumps({"protocol": 1, "source": open(path).read(), "filename": os.path.basename(path),
                  "compat": open("src/harness/finlab_compat.py").read(),
                  "data_path": "/tmp/market", "max_position_bytes": 1 << 28}))
PY
  strace -f -qq -o "$work/trace.$n" \
    chroot --userspec=1000:1000 "$work/rootfs" \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    timeout --signal=KILL 300s python3 -I -B -c "$harness" < "$work/in.json" > "$work/out" || true
  # The summary frame is the last JSON object on the channel; the corpus must succeed.
  if ! grep -aq '"status": "ok"' "$work/out"; then
    echo "error: $s did not succeed under measurement:" >&2
    grep -ao '{"protocol".*' "$work/out" >&2 || true
    exit 1
  fi
  echo "measured $s"
done
# The tracer's own `chroot` and `env` make privileged calls (chroot, setuid,
# setgroups) before the sandboxed program starts; in a container runc makes
# them before the filter is loaded, so they are not part of the measurement.
cat "$work"/trace.* \
  | sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' \
  | grep -vxE 'chroot|setuid|setgid|setgroups|setresuid|setresgid' \
  | sort -u > seccomp/measured.txt
echo "$(wc -l < seccomp/measured.txt) system calls in seccomp/measured.txt"
python3 seccomp/build_profile.py
