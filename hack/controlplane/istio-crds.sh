#!/usr/bin/env bash
# Fetch (or reuse) Istio's CRD bundle: manifests/charts/base/files/crd-all.gen.yaml of the
# istio.io/istio module pinned as ISTIO_VERSION in versions.env, downloaded through the Go module
# proxy (checked against sum.golang.org like any module). Nothing is built. Output:
# $ISTIO_CRDS_CACHED (see common.sh), outside the repo. Run by up.sh when ISTIO_CRDS is unset.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

if [[ -s $ISTIO_CRDS_CACHED ]]; then
  echo "controlplane: reusing $ISTIO_CRDS_CACHED (istio.io/istio $ISTIO_VERSION)"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "controlplane: 'go' not found in PATH; install Go >= 1.24 to fetch the Istio CRDs" >&2
  exit 1
fi

start=$SECONDS
echo "controlplane: fetching istio.io/istio@$ISTIO_VERSION through the Go module proxy"
mkdir -p "$ISTIO_CACHE"
# Run outside any module (-mod=mod in case a parent dir has one); never fetch another toolchain.
if ! json="$(cd "$ISTIO_CACHE" && GOTOOLCHAIN=local GO111MODULE=on GOFLAGS=-mod=mod \
  go mod download -json "istio.io/istio@$ISTIO_VERSION")"; then
  echo "controlplane: go mod download istio.io/istio@$ISTIO_VERSION failed: $(jq -r '.Error // empty' <<<"$json" 2>/dev/null)" >&2
  exit 1
fi
dir="$(jq -r .Dir <<<"$json")"
src="$dir/manifests/charts/base/files/crd-all.gen.yaml"
[[ -f $src ]] || { echo "controlplane: $src not found in istio.io/istio@$ISTIO_VERSION" >&2; exit 1; }
# The module cache is read-only; the copy appears only once complete.
install -m 644 "$src" "$ISTIO_CRDS_CACHED.tmp"
mv "$ISTIO_CRDS_CACHED.tmp" "$ISTIO_CRDS_CACHED"
echo "controlplane: copied $(grep -c '^kind: CustomResourceDefinition' "$ISTIO_CRDS_CACHED") CRDs in $((SECONDS - start))s -> $ISTIO_CRDS_CACHED"
