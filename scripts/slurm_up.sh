#!/usr/bin/env bash
# A real, single-node Slurm on this machine for the `batch submit` tests:
# Debian's slurm-wlm and munge, no systemd. Idempotent: installs what is
# missing, starts what is not running, and waits until `sinfo` shows the node
# idle (or mixed/allocated: jobs of an earlier run may still be draining).
#
# Loopback only: the controller and the node are both 127.0.0.1; nothing
# listens on another address. Jobs run as root on this host, with the same
# docker and the same finsandbox binary as the submitter.
set -euo pipefail

log() { echo "slurm_up: $*" >&2; }

CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    && command -v sbatch >/dev/null; then
    return
  fi
  log "installing slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating the munge key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return
  fi
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 50); do
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  log "error: munged does not answer"; exit 1
}

write_conf() {
  local cpus mem_mb tmp
  cpus=$(nproc)
  # All but 1 GiB of the host's memory, so `--mem` is a real consumable.
  mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
# Written by finsandbox scripts/slurm_up.sh: one node on loopback, for tests.
ClusterName=finsandbox
SlurmctldHost=${HOST}(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MaxArraySize=10001
ReturnToService=2
KillWait=30
InactiveLimit=0
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
# Bind to the node's own address (127.0.0.1), never to every interface.
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
NodeName=${HOST} NodeAddr=127.0.0.1 NodeHostname=${HOST} CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$tmp" "$CONF"; then
    log "writing $CONF"
    mv "$tmp" "$CONF"
    chmod 0644 "$CONF"
    CHANGED=1
  else
    rm -f "$tmp"
  fi
}

running() { pgrep -x "$1" >/dev/null; }

start_daemons() {
  if [ "${CHANGED:-0}" = 1 ]; then
    # A new config: restart whatever runs with the old one.
    for d in slurmd slurmctld; do
      if running "$d"; then
        log "stopping $d (config changed)"
        kill "$(cat /run/$d.pid)" 2>/dev/null || true
        for _ in $(seq 1 50); do running "$d" || break; sleep 0.1; done
      fi
    done
  fi
  if ! running slurmctld; then
    log "starting slurmctld"
    /usr/sbin/slurmctld
  fi
  if ! running slurmd; then
    log "starting slurmd"
    /usr/sbin/slurmd
  fi
}

wait_idle() {
  local state
  for _ in $(seq 1 60); do
    state=$(sinfo --noheader --nodes="$HOST" --format=%T 2>/dev/null || true)
    case "$state" in
      idle*|mixed*|allocated*|completing*) log "node $HOST is $state"; return ;;
      down*|drain*)
        scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  log "error: node $HOST did not become idle within 60s (state: ${state:-none})"
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

install_packages
start_munge
write_conf
start_daemons
wait_idle
