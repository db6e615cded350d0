#!/usr/bin/env bash
# Stop the test control plane started by up.sh (only the pids it recorded) and remove its run dir.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

stop() { # name: TERM, then KILL after 10 s; skip pids that are no longer our binary (zombies count as stopped)
  local name=$1 pidf="$CP_RUN/$1.pid" pid
  [[ -f $pidf ]] || return 0
  pid=$(cat "$pidf")
  if proc_running "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do proc_running "$name" || break; sleep 0.1; done
    if proc_running "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
    echo "controlplane: stopped $name (pid $pid)"
  fi
  rm -f "$pidf"
}

# Reverse start order: clients before the apiserver, the apiserver before etcd. istio-validation
# logs its counts when it stops; they are printed here, at the end of a run.
stop istio-validation
if [[ -f $CP_RUN/istio-validation.log ]]; then
  grep -o 'istio-validation: [0-9]* objects validated.*' "$CP_RUN/istio-validation.log" | tail -n 1 || true
fi
stop kube-controller-manager
stop kube-apiserver
stop etcd
rm -rf "$CP_RUN"
echo "controlplane: down, removed $CP_RUN"
