#!/usr/bin/env bash
# Install (or reuse) the real programs that test/e2e/programs.e2e.ts runs (SPEC §13.4), pinned in
# hack/controlplane/versions.env and cached outside the repository like the control plane's binaries:
#   - MLServer $MLSERVER_VERSION + mlserver-sklearn from PyPI, in a virtualenv of $MLSERVER_PYTHON,
#     installed from the committed lock file (the whole dependency set, pip freeze format) with
#     --no-deps --only-binary=:all:, then `pip check`;
#   - oauth2-proxy $OAUTH2_PROXY_VERSION: `go install github.com/oauth2-proxy/oauth2-proxy/v7@...`;
#   - mockoidc: hack/programs/mockoidc (a small main around github.com/oauth2-proxy/mockoidc
#     $MOCKOIDC_VERSION), go build.
# Each lands in its cache directory only once complete, so an interrupted build is redone.
#
# Usage: hack/programs/build.sh            build what is missing; progress on stdout
#        hack/programs/build.sh --json     the same, progress on stderr, then one JSON object
#                                          (versions and paths) on stdout
#        hack/programs/build.sh --relock   make the lock file anew: a fresh, unpinned install of
#                                          mlserver==$MLSERVER_VERSION mlserver-sklearn and uvloop<0.22
#                                          (uvloop 0.22+ crashes MLServer 1.6's model worker:
#                                          "There is no current event loop"), then pip freeze
# Env: AI_WORKLOADS_CACHE (default ~/.cache/ai-workloads), MLSERVER_VERSION, MLSERVER_PYTHON,
#      OAUTH2_PROXY_VERSION, MOCKOIDC_VERSION (see versions.env).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../controlplane/versions.env
source "$HERE/../controlplane/versions.env"
CACHE="${AI_WORKLOADS_CACHE:-$HOME/.cache/ai-workloads}"

mode="${1:-build}"
case $mode in build | --json | --relock) ;; *) echo "usage: $0 [--json|--relock]" >&2; exit 2 ;; esac
if [[ $mode == --json ]]; then exec 3>&1 1>&2; fi
log() { echo "programs: $*"; }
die() { echo "programs: ERROR: $*" >&2; exit 1; }
t_all=$SECONDS

# ---- MLServer ------------------------------------------------------------------------------
command -v "$MLSERVER_PYTHON" >/dev/null 2>&1 || die "$MLSERVER_PYTHON not found; MLServer $MLSERVER_VERSION needs Python >=3.9,<3.12 (set MLSERVER_PYTHON)"
pyminor="$("$MLSERVER_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
LOCK="$HERE/mlserver-$MLSERVER_VERSION-py$pyminor.lock"

if [[ $mode == --relock ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  log "relock: unpinned install of mlserver==$MLSERVER_VERSION with $MLSERVER_PYTHON ($pyminor) in $tmp"
  "$MLSERVER_PYTHON" -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install --quiet --only-binary=:all: "mlserver==$MLSERVER_VERSION" "mlserver-sklearn==$MLSERVER_VERSION" "uvloop<0.22"
  "$tmp/venv/bin/pip" check
  "$tmp/venv/bin/pip" freeze --all --exclude pip --exclude setuptools --exclude wheel >"$LOCK"
  log "wrote $LOCK ($(wc -l <"$LOCK") packages); start it once (npm run test:e2e -- test/e2e/programs.e2e.ts) before committing"
  exit 0
fi

[[ -f $LOCK ]] || die "no lock file $LOCK for MLServer $MLSERVER_VERSION on Python $pyminor; make one with: $0 --relock"
lockhash="$(sha256sum "$LOCK" | cut -c1-12)"
ML_DIR="$CACHE/mlserver/$MLSERVER_VERSION-py$pyminor-$lockhash"
ML_VENV="$ML_DIR/venv"
ML_STAMP="$ML_DIR/.stamp"
if [[ -f $ML_STAMP && -x $ML_VENV/bin/mlserver ]]; then
  log "reusing $ML_VENV (mlserver $MLSERVER_VERSION, python $pyminor, lock $lockhash)"
else
  start=$SECONDS
  log "installing mlserver $MLSERVER_VERSION into $ML_VENV from $(basename "$LOCK") ($(grep -c '==' "$LOCK") pinned packages)"
  # A virtualenv is not relocatable, so it is built in place; the stamp marks it complete.
  rm -rf "$ML_DIR"
  mkdir -p "$ML_DIR"
  "$MLSERVER_PYTHON" -m venv "$ML_VENV"
  "$ML_VENV/bin/pip" install --quiet --no-deps --only-binary=:all: -r "$LOCK"
  "$ML_VENV/bin/pip" check
  "$ML_VENV/bin/mlserver" --version >/dev/null
  echo "mlserver=$MLSERVER_VERSION python=$("$ML_VENV/bin/python" -V 2>&1) lock=$lockhash" >"$ML_STAMP"
  log "installed mlserver $MLSERVER_VERSION in $((SECONDS - start))s -> $ML_VENV"
fi

# ---- Go programs ---------------------------------------------------------------------------
need_go() { command -v go >/dev/null 2>&1 || die "'go' not found in PATH; install Go >= 1.26 to build oauth2-proxy $OAUTH2_PROXY_VERSION"; }
export CGO_ENABLED=0 GOTOOLCHAIN=local GO111MODULE=on GOFLAGS="-buildvcs=false"

OP_DIR="$CACHE/oauth2-proxy/$OAUTH2_PROXY_VERSION"
OP_BIN="$OP_DIR/bin/oauth2-proxy"
if [[ -x $OP_BIN ]]; then
  log "reusing $OP_BIN (oauth2-proxy $OAUTH2_PROXY_VERSION)"
else
  need_go
  start=$SECONDS
  log "building oauth2-proxy $OAUTH2_PROXY_VERSION with $(go version) into $OP_DIR/bin"
  rm -rf "$OP_DIR/bin.tmp"
  mkdir -p "$OP_DIR/bin.tmp"
  # The module has no replace directives, so `go install mod@version` uses exactly its go.mod.
  # The -X flag is the one upstream's Makefile sets (`oauth2-proxy --version`).
  GOBIN="$OP_DIR/bin.tmp" go install -trimpath \
    -ldflags "-s -w -X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$OAUTH2_PROXY_VERSION" \
    "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION"
  rm -rf "$OP_DIR/bin"
  mv "$OP_DIR/bin.tmp" "$OP_DIR/bin"
  log "built oauth2-proxy $OAUTH2_PROXY_VERSION in $((SECONDS - start))s -> $OP_BIN"
fi

# The wrapper's sources are part of the key: an edit rebuilds it.
srchash="$(cat "$HERE/mockoidc/main.go" "$HERE/mockoidc/go.mod" "$HERE/mockoidc/go.sum" | sha256sum | cut -c1-12)"
MO_DIR="$CACHE/mockoidc/$MOCKOIDC_VERSION-$srchash"
MO_BIN="$MO_DIR/bin/mockoidc"
if [[ -x $MO_BIN ]]; then
  log "reusing $MO_BIN (mockoidc $MOCKOIDC_VERSION)"
else
  need_go
  start=$SECONDS
  log "building mockoidc $MOCKOIDC_VERSION into $MO_DIR/bin"
  rm -rf "$MO_DIR/src" "$MO_DIR/bin.tmp"
  mkdir -p "$MO_DIR/src" "$MO_DIR/bin.tmp"
  cp "$HERE/mockoidc/main.go" "$HERE/mockoidc/go.mod" "$HERE/mockoidc/go.sum" "$MO_DIR/src/"
  pinned="$(awk '$1=="require" && $2=="github.com/oauth2-proxy/mockoidc"{print $3}' "$MO_DIR/src/go.mod")"
  if [[ $pinned != "$MOCKOIDC_VERSION" ]]; then
    # Only when MOCKOIDC_VERSION is overridden: the committed go.mod pins the default.
    log "MOCKOIDC_VERSION=$MOCKOIDC_VERSION differs from go.mod ($pinned): using $MOCKOIDC_VERSION"
    (cd "$MO_DIR/src" && go mod edit -require="github.com/oauth2-proxy/mockoidc@$MOCKOIDC_VERSION" && go mod tidy)
  fi
  (cd "$MO_DIR/src" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$MO_DIR/bin.tmp/mockoidc" .)
  rm -rf "$MO_DIR/bin"
  mv "$MO_DIR/bin.tmp" "$MO_DIR/bin"
  log "built mockoidc in $((SECONDS - start))s -> $MO_BIN"
fi

log "ready in $((SECONDS - t_all))s"
if [[ $mode == --json ]]; then
  jq -n --arg mlv "$MLSERVER_VERSION" --arg py "$("$ML_VENV/bin/python" -V 2>&1)" --arg venv "$ML_VENV" --arg lock "$LOCK" \
    --arg opv "$OAUTH2_PROXY_VERSION" --arg op "$OP_BIN" --arg mov "$MOCKOIDC_VERSION" --arg mo "$MO_BIN" \
    '{mlserver: {version: $mlv, python: $py, venv: $venv, bin: ($venv + "/bin"), lock: $lock},
      oauth2Proxy: {version: $opv, bin: $op}, mockoidc: {version: $mov, bin: $mo}}' >&3
fi
