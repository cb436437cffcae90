#!/usr/bin/env bash
# Bring up a single-node Slurm (munged + slurmctld + slurmd) on Debian 12 without systemd,
# for tests/test_pipeline_slurm.py in CI (`make slurm-up`). Needs root.
#
# Idempotent: installs the Debian packages only when missing, rewrites the config only when
# it changed (and then restarts the Slurm daemons), starts only daemons that are not running,
# and waits until the node is idle. `.ci/slurm-stop.sh` stops them again.
#
# The node: this machine's CPUs and topology (as `slurmd -C` reports them), 90% of its
# memory, and one fake GPU (`Gres=gpu:fake:1`, backed by /dev/null) so that a job asking for
# a GPU (`--gpus=1`, `--gpus=fake:1`) is scheduled and gets CUDA_VISIBLE_DEVICES=0.
# No accounting (no slurmdbd): `sacct` fails here, so Snakemake must poll with
# `--slurm-status-command squeue` (see profiles/slurm-ci/config.yaml).
#
# Environment: SLURM_PARTITION (default debug), SLURM_WAIT_S (default 60).
set -euo pipefail

PARTITION="${SLURM_PARTITION:-debug}"
WAIT_S="${SLURM_WAIT_S:-60}"
CONF_DIR=/etc/slurm
T0=$(date +%s%N)

log() {
  local ms=$((($(date +%s%N) - T0) / 1000000))
  printf '[slurm-start %d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"
}
[ "$(id -u)" = 0 ] || { echo "slurm-start.sh must run as root" >&2; exit 1; }

# running <pidfile> <comm>: true when the pid file names a live process called <comm>
running() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}
# stop_pidfile <pidfile> <comm>: TERM (after 10 s KILL) the process named in the pid file
stop_pidfile() {
  local pid
  running "$1" "$2" || return 0
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
# wait_started <pidfile> <comm> <logfile>: the daemons write their pid file a little after
# they return
wait_started() {
  for _ in $(seq 1 150); do running "$1" "$2" && return 0; sleep 0.1; done
  echo "$2 did not start; last lines of $3:" >&2
  tail -n 20 "$3" >&2 || true
  exit 1
}
# install_if_changed <new> <dest>: replace dest when different; CHANGED=1 then
CHANGED=0
install_if_changed() {
  if ! cmp -s "$1" "$2"; then
    install -m 0644 "$1" "$2"
    CHANGED=1
  fi
  rm -f "$1"
}

# 1. packages (the packages' own service starts fail harmlessly without systemd:
#    "invoke-rc.d: policy-rc.d denied execution of start.")
missing=""
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086  # one word per package
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
log "packages: slurm $(dpkg-query -W -f='${Version}' slurmctld), munge $(dpkg-query -W -f='${Version}' munge)"

# 2. the node, exactly as slurmd sees it (else: "Node reconfigured socket/core boundaries")
NODE=$(hostname -s)
if ! getent hosts "$NODE" >/dev/null; then
  echo "127.0.0.1 $NODE" >>/etc/hosts
  log "added $NODE to /etc/hosts"
fi
HW=$(slurmd -C | head -1)
hw() { echo "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
CPUS=$(hw CPUs)
REALMEM=$(($(hw RealMemory) * 90 / 100))

# 3. config. Written before any Slurm client runs: without /etc/slurm/slurm.conf they try
#    DNS SRV records and die ("Could not establish a configuration source").
mkdir -p "$CONF_DIR"
tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by rnnlm's .ci/slurm-start.sh: one node, no systemd, no cgroups, no accounting
ClusterName=ci
SlurmctldHost=${NODE}
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
GresTypes=gpu
ProctrackType=proctrack/linuxproc
# task/affinity: with task/none every srun says "cluster configuration lacks support for cpu binding"
TaskPlugin=task/affinity
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without it a job that gives no --mem gets all of the node's memory (jobs serialize)
DefMemPerCPU=1024
ReturnToService=2
# finished jobs stay visible to squeue for 10 min: Snakemake's squeue status polling needs
# MinJobAge >= 3 x slurm-init-seconds-before-status-checks, and tests read scontrol show job
MinJobAge=600
MailProg=/bin/true
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=${NODE} CPUs=${CPUS} Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore) RealMemory=${REALMEM} Gres=gpu:fake:1 State=UNKNOWN
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
install_if_changed "$tmp" "$CONF_DIR/slurm.conf"
tmp=$(mktemp)
# slurmd 22.05 drops a GPU without File= ("Removing file-less GPU"; the node then drains
# with "gres/gpu count reported lower than configured"): point it at /dev/null
printf 'AutoDetect=off\nNodeName=%s Name=gpu Type=fake File=/dev/null\n' "$NODE" >"$tmp"
install_if_changed "$tmp" "$CONF_DIR/gres.conf"
[ "$CHANGED" = 1 ] && log "wrote $CONF_DIR/slurm.conf, gres.conf (node $NODE: $CPUS CPUs, $REALMEM MB, gpu:fake:1)"

# 4. directories and the munge key (the package normally creates the key)
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /etc/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
install -d -o slurm -g slurm -m 0755 /var/lib/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  log "created the munge key"
fi

# 5. daemons (they daemonize themselves)
if [ "$CHANGED" = 1 ]; then
  stop_pidfile /run/slurmd.pid slurmd
  stop_pidfile /run/slurmctld.pid slurmctld
fi
if ! running /run/munge/munged.pid munged; then
  runuser -u munge -- /usr/sbin/munged --force
  wait_started /run/munge/munged.pid munged /var/log/munge/munged.log
  log "started munged (pid $(cat /run/munge/munged.pid))"
fi
munge -n | unmunge >/dev/null
if ! running /run/slurmctld.pid slurmctld; then
  /usr/sbin/slurmctld -c # -c: a clean state, no old jobs or stale DRAIN reasons
  wait_started /run/slurmctld.pid slurmctld /var/log/slurm/slurmctld.log
  log "started slurmctld (pid $(cat /run/slurmctld.pid))"
fi
if ! running /run/slurmd.pid slurmd; then
  /usr/sbin/slurmd
  wait_started /run/slurmd.pid slurmd /var/log/slurm/slurmd.log
  log "started slurmd (pid $(cat /run/slurmd.pid))"
fi

# 6. wait until the node is idle
deadline=$(($(date +%s) + WAIT_S))
while :; do
  # "unknown" until slurmd registered, "idle*" while it does not respond
  state=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in
    idle | mixed | allocated | completing) break ;;
    *drain* | *down* | *fail* | inval*) scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "node $NODE not idle after ${WAIT_S}s (state '$state')" >&2
    scontrol show node "$NODE" >&2 || true
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "node $NODE is $state"
sinfo -N -o '%N %P %T %c %m %G'
