# Shared paths for build.sh / up.sh / down.sh (sourced, not executed).
CP_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$CP_HERE/versions.env"
CP_REPO="$(cd "$CP_HERE/../.." && pwd)"
# Binaries live outside the repo so that clean checkouts and other engineers' trees reuse them.
CP_CACHE="${AI_WORKLOADS_CACHE:-$HOME/.cache/ai-workloads}/controlplane/${K8S_VERSION}-${ETCD_VERSION}"
CP_BIN="$CP_CACHE/bin"
CP_BINS=(kube-apiserver kube-controller-manager kubectl etcd)
CP_RUN="${AI_WORKLOADS_RUN:-/tmp/ai-workloads-cp}"
# helm has its own cache dir, keyed by its version only: a new K8S_VERSION does not rebuild it.
HELM_CACHE="${AI_WORKLOADS_CACHE:-$HOME/.cache/ai-workloads}/helm/${HELM_VERSION}"
HELM_BIN="$HELM_CACHE/bin/helm"
# Istio's CRD bundle, copied out of the istio.io/istio module by istio-crds.sh, keyed by its version.
ISTIO_CACHE="${AI_WORKLOADS_CACHE:-$HOME/.cache/ai-workloads}/istio/${ISTIO_VERSION}"
ISTIO_CRDS_CACHED="$ISTIO_CACHE/crd-all.gen.yaml"
# istiod's validating webhook, built from istio.io/istio at ISTIO_VERSION by hack/istio-validation/build.sh.
IV_CACHE="${AI_WORKLOADS_CACHE:-$HOME/.cache/ai-workloads}/istio-validation/${ISTIO_VERSION}"
IV_BIN="$IV_CACHE/bin/istio-validation"
IV_SRC="$CP_REPO/hack/istio-validation"
# The binary each process of $CP_RUN/<name>.pid runs (up.sh starts them, down.sh stops them).
proc_bin() { if [[ $1 == istio-validation ]]; then echo "$IV_BIN"; else echo "$CP_BIN/$1"; fi; }
# Whether the process up.sh recorded for <name> still runs: its pid is alive (not a zombie) and
# runs our binary (pids get reused). While the kernel execs the binary, or tears it down, its
# command line reads empty for a moment: that counts as running, so that a process just started is
# never taken for dead (a CI run failed on it, with nothing in the log); a later look decides.
proc_running() {
  local pid state cmdline
  pid=$(cat "$CP_RUN/$1.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ -z $cmdline || $cmdline == *"$(proc_bin "$1")"* ]]
}
