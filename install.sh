#!/usr/bin/env bash
# Install finsandbox: build the static binary, make sure a container engine
# answers, and build the sandbox image.
#
#   ./install.sh                 # as root: installs to /usr/local/bin
#   PREFIX=$HOME/.local ./install.sh
#   FINSANDBOX_IMAGE_METHOD=dockerfile ./install.sh   # force a build method
#
# It never changes an existing Docker configuration: when it has to start the
# daemon itself (no systemd, as in CI containers), it passes `--bridge=none
# --iptables=false` on the daemon's command line, since sandboxes never use a
# network.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
  is_root || die "missing $*; install it with: sudo apt-get install $*"
  command -v apt-get >/dev/null || die "missing $*, and this is not a Debian/Ubuntu system: install it by hand"
  say "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# 1. The container engine, and gVisor (runsc) as the stronger runtime tier.
if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null && ! engine_answers; then
  apt_install docker.io
fi
if ! command -v runsc >/dev/null && is_root && command -v apt-get >/dev/null; then
  apt_install runsc || say "note: gVisor (runsc) could not be installed; \`--runtime runsc\` will be unavailable"
fi
if ! engine_answers; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    say "starting docker (systemctl)"
    systemctl start docker || true
  elif is_root; then
    conf=/etc/docker/daemon.json
    if [ -f "$conf" ]; then
      # Flags only for what daemon.json does not already set: dockerd refuses
      # a directive given both ways.
      flags=()
      grep -qs '"bridge"' "$conf" || flags+=(--bridge=none)
      grep -qs '"iptables"' "$conf" || flags+=(--iptables=false)
    else
      # Our own daemon config, so /etc/docker is left alone. runsc needs
      # --network=none: gVisor would otherwise try to set up a network the
      # sandbox never uses.
      mkdir -p /var/lib/finsandbox
      conf=/var/lib/finsandbox/dockerd.json
      runtimes=""
      if command -v runsc >/dev/null; then
        runtimes=", \"runtimes\": {\"runsc\": {\"path\": \"$(command -v runsc)\", \"runtimeArgs\": [\"--network=none\"]}}"
      fi
      printf '{"bridge": "none", "iptables": false%s}\n' "$runtimes" > "$conf"
      flags=(--config-file "$conf")
    fi
    say "starting dockerd ${flags[*]} in the background (log: /var/log/finsandbox-dockerd.log)"
    nohup dockerd "${flags[@]}" >/var/log/finsandbox-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do engine_answers && break; sleep 1; done
  engine_answers || die "the Docker engine does not answer (see \`docker info\`); start it and run ./install.sh again"
fi
say "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) (API $(docker version --format '{{.Server.APIVersion}}' 2>/dev/null))"
if command -v runsc >/dev/null && ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
  say "note: runsc is installed but not registered with the engine; add to /etc/docker/daemon.json:"
  say "  \"runtimes\": {\"runsc\": {\"path\": \"$(command -v runsc)\", \"runtimeArgs\": [\"--network=none\"]}}"
fi

# 2. The static binary. glibc's static build (crt-static) needs no musl
#    toolchain; finsandbox does no name-service lookups, the one thing static
#    glibc cannot do well.
command -v cargo >/dev/null || die "cargo is needed to build finsandbox (https://rustup.rs)"
target=$(rustc -vV | sed -n 's/^host: //p')
say "building the static binary for $target (release)"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$target" --quiet
bin="target/$target/release/finsandbox"
if ldd "$bin" >/dev/null 2>&1 && ! ldd "$bin" 2>&1 | grep -q 'statically linked'; then
  die "$bin is dynamically linked; static linking failed"
fi
prefix=${PREFIX:-}
if [ -z "$prefix" ]; then
  if is_root; then prefix=/usr/local; else prefix=$HOME/.local; fi
fi
mkdir -p "$prefix/bin"
install -m 0755 "$bin" "$prefix/bin/finsandbox"
say "installed $prefix/bin/finsandbox ($(du -h "$bin" | cut -f1))"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) say "note: $prefix/bin is not on PATH" ;; esac

# 3. The sandbox image. debootstrap needs no container registry (it is what CI
#    uses); the Dockerfile method needs one and no root.
method=${FINSANDBOX_IMAGE_METHOD:-}
if [ -z "$method" ]; then
  if is_root && command -v apt-get >/dev/null; then method=debootstrap; else method=dockerfile; fi
fi
if [ "$method" = debootstrap ]; then
  command -v debootstrap >/dev/null || apt_install debootstrap
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
fi
say "sandbox image: method $method (skipped when a current image exists)"
"$prefix/bin/finsandbox" image build --method "$method"
say "done: try \`finsandbox exec examples/momentum.py --data examples/market.parquet\`"
