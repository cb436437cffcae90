#!/usr/bin/env bash
# Stop the Slurm started by .ci/slurm-start.sh (`make slurm-down`): cancel the jobs left,
# then stop slurmd, slurmctld and munged. Only the PIDs in the daemons' own pid files are
# signalled, and only when the process there has the expected name. Idempotent.
set -uo pipefail

# stop_pidfile <pidfile> <comm>
stop_pidfile() {
  local f=$1 name=$2 pid
  [ -s "$f" ] || { echo "$name: not running (no pid file)"; return 0; }
  pid=$(cat "$f")
  if [ ! -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" != "$name" ]; then
    echo "$name: not running (stale pid file, pid $pid)"
    rm -f "$f"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    if [ ! -d "/proc/$pid" ]; then
      echo "$name: stopped (pid $pid)"
      rm -f "$f"
      return 0
    fi
    sleep 0.2
  done
  echo "$name: still running 10 s after TERM, sending KILL to pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

# cancel what is left first, so that no slurmstepd outlives slurmd
if [ -s /etc/slurm/slurm.conf ] && command -v squeue >/dev/null && jobs=$(squeue -h -o %i 2>/dev/null); then
  if [ -n "$jobs" ]; then
    echo "cancelling Slurm jobs:" $jobs
    # shellcheck disable=SC2086  # one word per job id
    scancel $jobs || true
    for _ in $(seq 1 20); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
fi

stop_pidfile /run/slurmd.pid slurmd
stop_pidfile /run/slurmctld.pid slurmctld
stop_pidfile /run/munge/munged.pid munged
exit 0
