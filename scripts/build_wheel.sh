#!/usr/bin/env bash
# Build the finsandbox wheel (static binary + pure-Python package) into target/wheels/.
# Needs cargo/rustc and python3. Installs maturin from PyPI into a private venv
# ($MATURIN_VENV, default /tmp/finsandbox-maturin) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import venv, ensurepip' 2>/dev/null || {
    echo "python3 cannot make a venv: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
venv=${MATURIN_VENV:-/tmp/finsandbox-maturin}
if [ ! -x "$venv/bin/maturin" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.5,<2'
fi
target=$(rustc -vV | sed -n 's/^host: //p')
# As install.sh builds it: static, release, an explicit target (so RUSTFLAGS
# reach only the target artefacts, not build scripts and proc macros).
RUSTFLAGS="-C target-feature=+crt-static" \
    "$venv/bin/maturin" build --release --locked --target "$target" --out target/wheels "$@"
ls -l target/wheels/finsandbox-*.whl
