#!/usr/bin/env bash
# Bring up a one-node SLURM on this Debian machine (development and CI), idempotently:
# munge as user munge, a slurm.conf written from `slurmd -C`, slurmctld and slurmd, then wait until
# `sinfo` shows the node idle. Run as root. A second run finds the daemons up and returns at once.
#
#   sudo bash slurm/local-cluster.sh            # install (apt) if needed, configure, start, wait
#   ZKP_SLURM_NO_INSTALL=1 bash slurm/local-cluster.sh   # never call apt-get
#
# What it writes: /etc/slurm/slurm.conf (only when absent or written by this script), state under
# /var/lib/slurm, logs under /var/log/slurm. Jobs run on the node named by `slurmd -C` (this host),
# partition "debug", no cgroups (proctrack/linuxproc, task/none) so it works in containers too.
set -euo pipefail

say() { echo "slurm/local-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it starts munged, slurmctld and slurmd)"

CONF=/etc/slurm/slurm.conf
MARK="# written by zkp-dataset-ledger slurm/local-cluster.sh"
WAIT_S=${ZKP_SLURM_WAIT_S:-90}

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [ "${ZKP_SLURM_NO_INSTALL:-0}" = 1 ] && die "slurmctld or munged missing; apt-get install slurm-wlm munge"
  command -v apt-get >/dev/null || die "slurmctld or munged missing and no apt-get here"
  say "installing slurm-wlm munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; }
fi

# 2. munge: a key, /run/munge owned by munge, munged running as munge.
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
install -d -o munge -g munge -m 0700 /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  say "creating /etc/munge/munge.key"
  if command -v mungekey >/dev/null; then
    runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  # A stale pid or socket from an earlier container run keeps munged from starting.
  pgrep -u munge -x munged >/dev/null || rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  pgrep -u munge -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# 3. slurm.conf from `slurmd -C` (this node's CPUs, sockets, cores and memory).
install -d -o slurm -g slurm -m 0755 /var/lib/slurm /var/lib/slurm/slurmctld /var/log/slurm /run/slurm
install -d -o root -g root -m 0755 /var/lib/slurm/slurmd
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  say "keeping the existing $CONF (not written by this script)"
else
  node_line=$(slurmd -C | head -n1)
  node_name=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
  [ -n "$node_name" ] || die "cannot read the node from 'slurmd -C': $node_line"
  new=$(mktemp)
  cat >"$new" <<EOF
$MARK
ClusterName=zkpledger
SlurmctldHost=${node_name}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
${node_line% UpTime=*} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$new" "$CONF"; then
    say "writing $CONF for node $node_name"
    install -m 0644 "$new" "$CONF"
    conf_changed=1
  fi
  rm -f "$new"
fi

# 4. Daemons: restart them when the configuration changed under them, start them when absent.
if [ "${conf_changed:-0}" = 1 ] && pgrep -x slurmctld >/dev/null; then
  say "configuration changed: restarting slurmctld and slurmd"
  pkill_pidfile() { [ -s "$1" ] && kill "$(cat "$1")" 2>/dev/null || true; }
  pkill_pidfile /run/slurm/slurmd.pid
  pkill_pidfile /run/slurm/slurmctld.pid
  for _ in $(seq 100); do pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break; sleep 0.1; done
fi
start_daemons() {
  if ! pgrep -x slurmctld >/dev/null; then
    say "starting slurmctld"
    slurmctld
  fi
  if ! pgrep -x slurmd >/dev/null; then
    say "starting slurmd"
    slurmd
  fi
}
start_daemons

# 5. Wait for the node to be idle (or busy with jobs: mixed/allocated also means it is up).
deadline=$((SECONDS + WAIT_S))
resumed=0
while :; do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true)
  case "$state" in
    idle|mix|mixed|alloc|allocated|comp|completing) break ;;
    down*|drain*|drng*|fail*)
      if [ "$resumed" = 0 ]; then
        say "node is $state; resuming it"
        scontrol update NodeName="$(sinfo -h -N -o '%N' | head -n1)" State=RESUME 2>/dev/null || true
        resumed=1
      fi ;;
  esac
  start_daemons  # one that was shutting down when first looked at has gone by now
  [ "$SECONDS" -lt "$deadline" ] || die "node not idle after ${WAIT_S}s (state '${state:-no answer}'; see /var/log/slurm/)"
  sleep 0.5
done
say "up: $(sinfo -h -N -o '%N %t %c CPUs %m MB')"
