#!/usr/bin/env bash
# Validate what `finsandbox k8s render` prints against the Kubernetes API
# schemas of every version finsandbox claims (1.29 to 1.37), with PyPI's
# kubernetes-validate in strict mode (unknown fields are errors).
#
# Renders a single strategy (with and without a RuntimeClass) and a batch
# (an Indexed Job) with the built binary, then runs
# `kubernetes-validate --strict -k <version>` on each file and fails on any
# ERROR, and on any WARN too: kubernetes-validate only warns when it has no
# schema for a kind, and an object it did not check must not pass.
#
# No cluster is involved: this checks the objects' shape, not their effect.
#
#   scripts/k8s_validate.sh                  # builds target/debug/finsandbox if missing
#   FINSANDBOX_BIN=target/release/finsandbox scripts/k8s_validate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

versions=(1.29 1.30 1.31 1.32 1.33 1.34 1.35 1.36 1.37)
kv_version=1.37.0
bin=${FINSANDBOX_BIN:-target/debug/finsandbox}
out=target/k8s-validate
venv=target/k8s-validate-venv

[ -x "$bin" ] || cargo build --quiet
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$kv_version"
fi

rm -rf "$out"
mkdir -p "$out/batch"
cp examples/momentum.py examples/finlab_style.py "$out/batch/"
# Every gap accepted: this checks the schema, the refusal has its own tests.
export FINSANDBOX_K8S_ACCEPT_GAPS=network_none,pids_limit,tmpfs_noexec,memory_swap,log_size,service_env,data_tables_only,runtime_monitor,per_index_backoff_beta
export FINSANDBOX_CONFIG=tests/no-sweep.yaml

failed=0
for v in "${versions[@]}"; do
  "$bin" k8s render examples/momentum.py --data-pvc market-data --k8s-version "$v" >"$out/single-$v.yaml"
  "$bin" k8s render examples/momentum.py --data-pvc market-data --runtime-class gvisor \
    --data-subpath tw --namespace research --k8s-version "$v" >"$out/single-gvisor-$v.yaml"
  "$bin" k8s render --batch --manifest "$out/batch" --data-pvc market-data --parallelism 2 \
    --k8s-version "$v" >"$out/batch-$v.yaml"
  # A second YAML reader (PyYAML, which kubernetes-validate uses) must read
  # back exactly the objects of `-o json`.
  "$bin" k8s render examples/momentum.py --data-pvc market-data --runtime-class gvisor \
    --data-subpath tw --namespace research --k8s-version "$v" -o json >"$out/single-gvisor-$v.json"
  "$venv/bin/python" - "$out/single-gvisor-$v.yaml" "$out/single-gvisor-$v.json" <<'PY' || failed=1
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")) if d]
items = json.load(open(sys.argv[2], encoding="utf-8"))["items"]
if docs != items:
    sys.exit("FAIL %s: PyYAML reads different objects than -o json prints" % sys.argv[1])
PY
  for f in "$out/single-$v.yaml" "$out/single-gvisor-$v.yaml" "$out/batch-$v.yaml"; do
    docs=$(grep -c '^kind: ' "$f")
    report=$("$venv/bin/kubernetes-validate" --strict -k "$v.0" "$f" 2>&1) || failed=1
    passed=$(grep -c "^INFO .* passed .* against version $v\$" <<<"$report" || true)
    if grep -qE '^(ERROR|WARN|FATAL)' <<<"$report" || [ "$passed" != "$docs" ]; then
      echo "FAIL $f (Kubernetes $v): $passed of $docs objects passed" >&2
      echo "$report" >&2
      failed=1
    else
      echo "ok   $f: $docs objects valid for Kubernetes $v (strict)"
    fi
  done
done
exit $failed
