#!/usr/bin/env bash
# Install the built wheel into a fresh venv and run tests/python_api with pytest
# against the real engine, with no Rust toolchain on PATH (env -i: only the
# venv, /usr/bin and /bin). Needs python3, pip access to PyPI (for pytest), a
# Docker engine and the image finsandbox-runtime:1. Build the wheel first:
# scripts/build_wheel.sh. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import venv, ensurepip' 2>/dev/null || {
    echo "python3 cannot make a venv: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
shopt -s nullglob
wheels=(target/wheels/finsandbox-*.whl)
[ ${#wheels[@]} -gt 0 ] || { echo "no wheel in target/wheels: run scripts/build_wheel.sh" >&2; exit 1; }
wheel=$(ls -t "${wheels[@]}" | head -1)
work=$(mktemp -d /tmp/finsandbox-wheel-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pytest "$wheel"
mkdir "$work/home"
echo "testing $wheel in $work/venv"
env -i PATH="$work/venv/bin:/usr/bin:/bin" HOME="$work/home" LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    FINSANDBOX_TEST_DATA="$PWD/examples/market.parquet" \
    "$work/venv/bin/python" -m pytest -p no:cacheprovider -v tests/python_api "$@"
