#!/usr/bin/env bash
# Start a loopback-only Kubernetes test control plane (etcd + kube-apiserver +
# kube-controller-manager, no kubelet), envtest-style, with all state in $CP_RUN.
# Idempotent: if it is already running (pid files alive), it only prints how to use it.
#
# Env overrides:
#   AI_WORKLOADS_RUN      run dir (default /tmp/ai-workloads-cp)
#   AI_WORKLOADS_CACHE    binary and CRD cache root (default ~/.cache/ai-workloads)
#   CP_APISERVER_PORT     apiserver secure port (default: a free port)
#   CP_ETCD_PORT, CP_ETCD_PEER_PORT, CP_KCM_PORT   likewise
#   K8S_VERSION, ETCD_VERSION, HELM_VERSION, ISTIO_VERSION   see versions.env
#   ISTIO_CRDS            CRD yaml to install (default: crd-all.gen.yaml of istio.io/istio@ISTIO_VERSION,
#                         fetched by istio-crds.sh into the cache; set to "" to skip); with the CRDs
#                         comes istiod's validating webhook (hack/istio-validation, built by its build.sh)
#   CP_ISTIO_VALIDATION_PORT   its port (default: a free port)
#   CP_TIMEOUT            seconds to wait for each readiness step (default 120)
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
log() { echo "controlplane: $*"; }
die() { echo "controlplane: ERROR: $*" >&2; exit 1; }
TIMEOUT="${CP_TIMEOUT:-120}"
PROCS=(etcd kube-apiserver kube-controller-manager)
# Started with the Istio CRDs only; wait_for watches it once its pid file exists.
IV=istio-validation

n_alive=0
for p in "${PROCS[@]}"; do proc_running "$p" && n_alive=$((n_alive + 1)); done
if ((n_alive == ${#PROCS[@]})) && [[ -f $CP_RUN/env ]] && { [[ ! -f $CP_RUN/$IV.pid ]] || proc_running "$IV"; }; then
  log "already running (pids in $CP_RUN); use: source $CP_RUN/env"
  exit 0
fi
if ((n_alive > 0)) || [[ -d $CP_RUN ]]; then
  # Half-dead or stale state is not worth repairing: start from scratch.
  log "found stale/partial state in $CP_RUN, cleaning it up"
  "$CP_HERE/down.sh"
fi

"$CP_HERE/build.sh"
# Unset ISTIO_CRDS means the pinned Istio's bundle (fetched once); "" skips the CRDs.
if [[ -z ${ISTIO_CRDS+set} ]]; then
  "$CP_HERE/istio-crds.sh"
  ISTIO_CRDS="$ISTIO_CRDS_CACHED"
fi
# istiod's validation comes with the Istio CRDs, whichever bundle they are from.
[[ -z $ISTIO_CRDS ]] || "$IV_SRC/build.sh"
KUBECTL="$CP_BIN/kubectl"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

mkdir -p "$CP_RUN"
chmod 700 "$CP_RUN"
PKI="$CP_RUN/pki"
mkdir -p "$PKI"

# ---- ports: loopback only ------------------------------------------------------
# A port is free when nothing accepts a connection on 127.0.0.1:port. Ports are drawn below the
# kernel's ephemeral range: there the local end of an outgoing connection can hold a port that
# accepts nothing, and etcd then fails with "address already in use".
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPHEMERAL_LOW=32768
(( EPHEMERAL_LOW > 12000 )) || EPHEMERAL_LOW=32768
used_ports=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
    [[ $used_ports == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}
APISERVER_PORT="${CP_APISERVER_PORT:-$(free_port)}"; used_ports+="$APISERVER_PORT "
ETCD_PORT="${CP_ETCD_PORT:-$(free_port)}"; used_ports+="$ETCD_PORT "
ETCD_PEER_PORT="${CP_ETCD_PEER_PORT:-$(free_port)}"; used_ports+="$ETCD_PEER_PORT "
KCM_PORT="${CP_KCM_PORT:-$(free_port)}"; used_ports+="$KCM_PORT "
IV_PORT="${CP_ISTIO_VALIDATION_PORT:-$(free_port)}"; used_ports+="$IV_PORT "
SERVER="https://127.0.0.1:$APISERVER_PORT"

# ---- certificates ----------------------------------------------------------------
# Everything is throwaway and local: short-lived, and ECDSA P-256 keys (RSA keygen
# would cost ~1.5 s of every start). The SA signing key stays RSA (RS256, the usual).
gen_ca() { # name cn
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 -subj "/CN=$2" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
gen_cert() { # name ca subject extendedKeyUsage [subjectAltName]
  local name=$1 ca=$2 subj=$3 eku=$4 san=${5:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  openssl x509 -req -sha256 -days 30 -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -CAcreateserial -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}
gen_ca ca ai-workloads-test-ca
gen_cert apiserver ca "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
gen_cert admin ca "/O=system:masters/CN=kubernetes-admin" clientAuth
# The controller manager gets its own identity (bootstrap RBAC role system:kube-controller-manager)
# so its writes never count as the admin's in the audit log.
gen_cert kube-controller-manager ca "/CN=system:kube-controller-manager" clientAuth
# Service-account token signing key pair.
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
# Front proxy (aggregation layer) so aggregated APIs / extension apiservers can be tested.
gen_ca front-proxy-ca front-proxy-ca
gen_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
chmod 600 "$PKI"/*.key

kubeconfig() { # file user cert
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ai-workloads-test
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$3.crt")
    client-key-data: $(base64 -w0 <"$PKI/$3.key")
contexts:
- name: ai-workloads-test
  context:
    cluster: ai-workloads-test
    user: $2
current-context: ai-workloads-test
EOF
  chmod 600 "$1"
}
kubeconfig "$CP_RUN/kubeconfig" kubernetes-admin admin
kubeconfig "$CP_RUN/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager

# ---- audit policy ----------------------------------------------------------------
# Tests count write requests per user: log every write at Metadata, one event per
# request (ResponseComplete only), and nothing else.
cat >"$CP_RUN/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
EOF

# ---- processes -------------------------------------------------------------------
# setsid: detach from the caller's session so the plane outlives this script;
# the child writes its own pid (before exec) so the pid file is exact.
start() { # name args...
  local name=$1; shift
  # The pid file appears whole (rename), never empty.
  setsid bash -c 'echo $$ >"$1.new" && mv -f "$1.new" "$1"; shift; exec "$@"' _ "$CP_RUN/$name.pid" "$(proc_bin "$name")" "$@" \
    </dev/null >"$CP_RUN/$name.log" 2>&1 &
}
wait_for() { # description command...
  local desc=$1; shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    for p in "${PROCS[@]}" "$IV"; do
      if [[ -f $CP_RUN/$p.pid ]] && ! proc_running "$p"; then
        if [[ -s $CP_RUN/$p.log ]]; then tail -n 30 "$CP_RUN/$p.log" >&2; else echo "($p wrote no log)" >&2; fi
        die "$p exited while waiting for $desc (log: $CP_RUN/$p.log)"
      fi
    done
    ((SECONDS < deadline)) || die "timed out after ${TIMEOUT}s waiting for $desc"
    sleep 0.2
  done
}
https_ok() { # url : loopback only, client cert auth, never via a proxy
  curl -sf --noproxy '*' --max-time 2 --cacert "$PKI/ca.crt" \
    --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1" | grep -qx ok
}

# Endpoints may not hold a loopback IP, so the apiserver's own "kubernetes" Service gets
# no endpoints (--endpoint-reconciler-type=none); nothing runs in-cluster anyway.
# --unsafe-no-fsync: test data is disposable, fsync only slows the tests.
start etcd --name=ai-workloads-test --data-dir="$CP_RUN/etcd-data" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="ai-workloads-test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level=warn
wait_for "etcd health" curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
log "etcd up on 127.0.0.1:$ETCD_PORT ($(elapsed)s)"

start kube-apiserver \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --authorization-mode=RBAC --allow-privileged=true \
  --enable-admission-plugins=NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
  --service-cluster-ip-range=10.96.0.0/16 \
  --endpoint-reconciler-type=none \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --audit-policy-file="$CP_RUN/audit-policy.yaml" --audit-log-path="$CP_RUN/audit.log" \
  --audit-log-mode=blocking --audit-log-format=json \
  --profiling=false
wait_for "kube-apiserver /readyz" https_ok "$SERVER/readyz"
log "kube-apiserver ready on $SERVER ($(elapsed)s)"

start kube-controller-manager \
  --kubeconfig="$CP_RUN/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig="$CP_RUN/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig="$CP_RUN/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$CP_RUN/kcm-certs" \
  --controllers='*' --use-service-account-credentials=true --leader-elect=false \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range=10.96.0.0/16 --profiling=false
wait_for "kube-controller-manager /healthz" \
  curl -sfk --noproxy '*' --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"

export KUBECONFIG="$CP_RUN/kubeconfig"
wait_for "namespace default" "$KUBECTL" get namespace default
wait_for "serviceaccount default/default" "$KUBECTL" -n default get serviceaccount default
log "controller-manager up, default ServiceAccount exists ($(elapsed)s)"

cat >"$CP_RUN/env" <<EOF
# Source me: test control plane started by hack/controlplane/up.sh
export KUBECONFIG="$CP_RUN/kubeconfig"
export PATH="$CP_BIN:$(dirname "$HELM_BIN"):\$PATH"
export KUBECTL="$KUBECTL"
export HELM="$HELM_BIN"
export AI_WORKLOADS_RUN="$CP_RUN"
export CP_APISERVER_URL="$SERVER"
export CP_APISERVER_PORT="$APISERVER_PORT"
export CP_ETCD_ENDPOINT="http://127.0.0.1:$ETCD_PORT"
export CP_KCM_PORT="$KCM_PORT"
export CP_AUDIT_LOG="$CP_RUN/audit.log"
export CP_CA_FILE="$PKI/ca.crt"
EOF

# ---- Istio CRDs ------------------------------------------------------------------
if [[ -n $ISTIO_CRDS ]]; then
  [[ -f $ISTIO_CRDS ]] || die "ISTIO_CRDS=$ISTIO_CRDS does not exist (set ISTIO_CRDS=\"\" to skip)"
  # Server-side apply: some CRDs are too big for client-side apply's annotation.
  crds=$("$KUBECTL" apply --server-side --force-conflicts --field-manager=ai-workloads-cp -f "$ISTIO_CRDS" -o name)
  # shellcheck disable=SC2086
  "$KUBECTL" wait --for=condition=Established --timeout="${TIMEOUT}s" $crds >/dev/null
  log "installed $(wc -w <<<"$crds") CRDs from $ISTIO_CRDS, all Established ($(elapsed)s)"

  # ---- Istio's validation ----------------------------------------------------------
  # istiod's own validating webhook (hack/istio-validation: istio.io/istio's
  # pkg/webhooks/validation/server at ISTIO_VERSION), registered as istiod registers it, so the API
  # server refuses the Istio objects a real istiod refuses, with istiod's message. Loopback TLS made
  # like the e2e module's webhooks (ECDSA P-256, SAN IP:127.0.0.1), signed by this plane's CA.
  gen_cert "$IV" ca "/CN=127.0.0.1" serverAuth "IP:127.0.0.1"
  chmod 600 "$PKI/$IV.key"
  IV_URL="https://127.0.0.1:$IV_PORT"
  start "$IV" --listen="127.0.0.1:$IV_PORT" --tls-cert="$PKI/$IV.crt" --tls-key="$PKI/$IV.key"
  wait_for "$IV /ready" https_ok "$IV_URL/ready"
  # The rules of istiod's chart (istio-discovery's validatingwebhookconfiguration.yaml), with
  # failurePolicy Fail from the start and every object, whatever its istio.io/rev label. The
  # webhook is named like the base chart's default validator: a refusal reads
  # `admission webhook "validation.istio.io" denied the request: configuration is invalid: ...`.
  "$KUBECTL" apply --server-side --force-conflicts --field-manager=ai-workloads-cp -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: $IV
  labels:
    app.kubernetes.io/managed-by: ai-workloads-cp
webhooks:
- name: validation.istio.io
  clientConfig:
    url: $IV_URL/validate
    caBundle: $(base64 -w0 <"$PKI/ca.crt")
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [security.istio.io, networking.istio.io, telemetry.istio.io, extensions.istio.io]
    apiVersions: ["*"]
    resources: ["*"]
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
  timeoutSeconds: 10
YAML
  # Ready once the API server calls it: a VirtualService whose HTTP route has neither a destination
  # nor a redirect passes the CRD schema, and only Istio's validation refuses it (dry run).
  iv_refuses_probe() {
    local out
    ! out=$("$KUBECTL" create --dry-run=server -o name -f - 2>&1 <<'JSON'
{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
 "metadata": {"name": "istio-validation-probe", "namespace": "default"},
 "spec": {"hosts": ["probe.invalid"], "http": [{"match": [{"uri": {"prefix": "/"}}]}]}}
JSON
) && grep -q 'admission webhook "validation.istio.io" denied the request' <<<"$out"
  }
  wait_for "the API server to call $IV" iv_refuses_probe
  # Count only what comes after (the probes above were refused as they should be).
  curl -sf --noproxy '*' --max-time 2 --cacert "$PKI/ca.crt" -X POST "$IV_URL/stats/reset" >/dev/null
  echo "export CP_ISTIO_VALIDATION_URL=\"$IV_URL\"" >>"$CP_RUN/env"
  log "$IV (istiod's validating webhook, istio.io/istio $ISTIO_VERSION) on $IV_URL, registered ($(elapsed)s)"
fi

log "ready in $(elapsed)s; kubeconfig: $CP_RUN/kubeconfig; audit log: $CP_RUN/audit.log"
log "use: source $CP_RUN/env"
