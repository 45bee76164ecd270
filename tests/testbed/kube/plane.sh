# Per-plane configuration and component starters, shared by up and restart-apiserver. Sourced after lib.sh.
# Everything of a plane lives in $STATE/<plane>/ (mode 0700):
#   pki/            certs signed by the testbed CA ($STATE/pki/ca.{crt,key}) + service-account key pair
#   etcd/           etcd data (kept across down/up; `down --purge` removes it)
#   node/           the process node's pod sandboxes and container logs
#   *.pid *.log     one per process; audit.log from the apiserver's audit policy
#   admin.kubeconfig, server, ca.crt, authentication-config.yaml, audit-policy.yaml

plane_setup() { # plane: sets P (dir) and ports
  PLANE=$1
  plane_ports "$PLANE"
  P=$STATE/$PLANE
  SERVER=https://127.0.0.1:$APISERVER_PORT
  case $PLANE in kisti) SVC_RANGE=10.16.0.0/24 ;; unist) SVC_RANGE=10.26.0.0/24 ;; *) SVC_RANGE=10.36.0.0/24 ;; esac
  mkdir -p "$P/pki" "$P/etcd" "$P/node"
  chmod 0700 "$STATE" "$P" "$P/pki" "$P/etcd" "$P/node"
}

ensure_ca() {
  if [[ ! -s $STATE/pki/ca.crt || ! -s $STATE/pki/ca.key ]]; then
    log "testbed CA missing: running tests/testbed/pki/make"
    "$REPO_ROOT/tests/testbed/pki/make" >&2
  fi
}

# leaf NAME SUBJECT EKU [SAN]: a key + cert signed by the testbed CA, reused while valid and CA-signed.
plane_leaf() {
  local name=$1 subj=$2 eku=$3 san=${4:-} d=$P/pki
  if [[ -s $d/$name.crt && -s $d/$name.key ]] &&
     openssl x509 -in "$d/$name.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
     openssl verify -CAfile "$STATE/pki/ca.crt" "$d/$name.crt" >/dev/null 2>&1; then
    return 0
  fi
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$eku" > "$ext"
  [[ -n $san ]] && printf 'subjectAltName=%s\n' "$san" >> "$ext"
  (umask 077
   openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -keyout "$d/$name.key" -out "$d/$name.csr" -subj "$subj" 2>/dev/null
   openssl x509 -req -in "$d/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" \
     -CAserial "$d/ca.srl" -CAcreateserial -out "$d/$name.crt" -days 825 -extfile "$ext" 2>/dev/null)
  rm -f "$ext" "$d/$name.csr"
  log "$PLANE: issued $name certificate"
}

plane_pki() {
  ensure_ca
  local svc_ip=${SVC_RANGE%.0/24}.1
  plane_leaf apiserver "/O=krdc testbed/CN=kube-apiserver-$PLANE" serverAuth \
    "IP:127.0.0.1,IP:$svc_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  plane_leaf admin "/O=system:masters/CN=krdc-testbed-admin" clientAuth
  # own identities for the controller manager and the node, so the audit log tells their requests from a test's
  plane_leaf controller-manager "/O=system:masters/CN=krdc-testbed-controller-manager" clientAuth
  plane_leaf node-client "/O=system:masters/CN=krdc-testbed-node-$PLANE" clientAuth
  plane_leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  plane_leaf node "/O=system:nodes/CN=system:node:$PLANE-node" serverAuth "IP:127.0.0.1,DNS:$PLANE-node,DNS:localhost"
  if [[ ! -s $P/pki/sa.key ]]; then
    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/pki/sa.key" 2>/dev/null)
    openssl pkey -in "$P/pki/sa.key" -pubout -out "$P/pki/sa.pub" 2>/dev/null
    log "$PLANE: created service-account signing key"
  fi
  chmod 0600 "$P"/pki/*.key
  cp "$STATE/pki/ca.crt" "$P/ca.crt"
}

plane_configs() {
  local issuer=https://127.0.0.1:18443/realms/krdc
  [[ -s $STATE/hub/issuer ]] && issuer=$(tr -d '[:space:]' < "$STATE/hub/issuer")
  # tests only: point a plane at another issuer (e.g. an unreachable one, to prove the apiserver starts anyway)
  issuer=${KRDC_TB_ISSUER_OVERRIDE:-$issuer}
  echo "$SERVER" > "$P/server"
  # Keycloak tokens: issuer + audience = this cluster's client; usernames/groups prefixed "oidc:".
  {
    echo "apiVersion: apiserver.config.k8s.io/v1"
    echo "kind: AuthenticationConfiguration"
    echo "jwt:"
    echo "- issuer:"
    echo "    url: $issuer"
    echo "    audiences: [krdc-$PLANE]"
    echo "    certificateAuthority: |"
    sed 's/^/      /' "$STATE/pki/ca.crt"
    echo "  claimMappings:"
    echo "    username: {claim: preferred_username, prefix: 'oidc:'}"
    echo "    groups: {claim: groups, prefix: 'oidc:'}"
  } > "$P/authentication-config.yaml.new"
  # The apiserver reloads this file whenever it changes and rejects every token (401) until the reloaded
  # JWT authenticator has fetched the issuer's keys again (~10 s): a running plane must not see a rewrite
  # of the same content, nor a half-written file. Replace it only when it differs, and atomically.
  if cmp -s "$P/authentication-config.yaml.new" "$P/authentication-config.yaml"; then
    rm -f "$P/authentication-config.yaml.new"
  else
    mv -f "$P/authentication-config.yaml.new" "$P/authentication-config.yaml"
  fi
  # Metadata for every request (benchmarks count gets/lists per user); the node's lease renewals are noise.
  cat > "$P/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  resources: [{group: coordination.k8s.io, resources: [leases]}]
- level: Metadata
EOF
  write_kubeconfig admin admin
  write_kubeconfig controller-manager controller-manager
  write_kubeconfig node node-client
}

# write_kubeconfig NAME CERT: $P/NAME.kubeconfig for the client cert pki/CERT.{crt,key} (embedded; 0600)
write_kubeconfig() {
  local name=$1 cert=$2 f=$P/$1.kubeconfig
  cat > "$f.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $PLANE
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 < "$STATE/pki/ca.crt")
users:
- name: $PLANE-$name
  user:
    client-certificate-data: $(base64 -w0 < "$P/pki/$cert.crt")
    client-key-data: $(base64 -w0 < "$P/pki/$cert.key")
contexts:
- name: $PLANE
  context: {cluster: $PLANE, user: $PLANE-$name}
current-context: $PLANE
EOF
  chmod 0600 "$f.tmp"
  mv "$f.tmp" "$f"
}

start_etcd() {
  pid_alive "$P/etcd.pid" && return 0
  start_bg "$PLANE etcd" "$P/etcd.pid" "$P/etcd.log" "$ETCD_BIN/etcd" --name "$PLANE" --data-dir "$P/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT"
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'; }

start_apiserver() {
  pid_alive "$P/apiserver.pid" && return 0
  start_bg "$PLANE kube-apiserver" "$P/apiserver.pid" "$P/apiserver.log" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$P/pki/apiserver.crt" --tls-private-key-file="$P/pki/apiserver.key" \
    --client-ca-file="$STATE/pki/ca.crt" \
    --service-cluster-ip-range="$SVC_RANGE" \
    --authorization-mode=Node,RBAC \
    --authentication-config="$P/authentication-config.yaml" \
    --service-account-issuer="$SERVER" \
    --service-account-key-file="$P/pki/sa.pub" --service-account-signing-key-file="$P/pki/sa.key" \
    --kubelet-client-certificate="$P/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$P/pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$STATE/pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --audit-policy-file="$P/audit-policy.yaml" --audit-log-path="$P/audit.log" \
    --audit-log-maxsize=200 --audit-log-maxbackup=1 \
    --profiling=false --v=1
}

apiserver_ready() {
  curl -fsS --max-time 3 --cacert "$STATE/pki/ca.crt" --cert "$P/pki/admin.crt" --key "$P/pki/admin.key" \
    "$SERVER/readyz" | grep -qx ok
}

start_kcm() {
  pid_alive "$P/controller-manager.pid" && return 0
  start_bg "$PLANE kube-controller-manager" "$P/controller-manager.pid" "$P/controller-manager.log" \
    "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$P/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$P/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$P/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$P/pki/kcm" \
    --leader-elect=false \
    --kube-api-qps=200 --kube-api-burst=400 --concurrent-job-syncs=20 \
    --controllers=job-controller,cronjob-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,ttl-after-finished-controller,pod-garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller \
    --service-account-private-key-file="$P/pki/sa.key" --root-ca-file="$STATE/pki/ca.crt" \
    --use-service-account-credentials=false \
    --profiling=false --v=1
}

kcm_healthy() { curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" | grep -qx ok; }

start_node() {
  pid_alive "$P/node.pid" && return 0
  start_bg "$PLANE process node" "$P/node.pid" "$P/node.log" "$NODE_BIN/krdc-node" \
    --kubeconfig="$P/node.kubeconfig" --node-name="$PLANE-node" --port="$NODE_PORT" \
    --tls-cert-file="$P/pki/node.crt" --tls-private-key-file="$P/pki/node.key" --client-ca-file="$STATE/pki/ca.crt" \
    --root-dir="$P/node" --images="$REPO_ROOT/tests/testbed/images.yaml" --repo-root="$REPO_ROOT" \
    --service-port="$APISERVER_PORT" --kubelet-version="$K8S_VERSION"
}

kc() { kubectl --kubeconfig "$P/admin.kubeconfig" --request-timeout=20s "$@"; }

node_ready() {
  [[ $(kc get node "$PLANE-node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}
