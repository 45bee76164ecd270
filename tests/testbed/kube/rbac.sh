# rbac_manifest USER...: namespaces alice and bob, the krdc-user Role in each, RoleBindings for oidc:<user>
# (only for the users given), and the krdc-proxy ServiceAccount bound to the same Role (future proxy jobs
# run under it). Sourced by up; prints YAML for `kubectl apply -f -`.
rbac_manifest() {
  local ns users=" $* "
  for ns in alice bob; do
    cat <<EOF
---
apiVersion: v1
kind: Namespace
metadata: {name: $ns, labels: {krdc.example/testbed: "true"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: krdc-user, namespace: $ns}
rules:
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch, delete, patch, update]
- apiGroups: [""]
  resources: [pods, secrets, configmaps]
  verbs: [create, get, list, watch, delete, patch, update]
- apiGroups: [""]
  resources: [pods/log, pods/status]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [get, list, watch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [get, list, watch]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: krdc-proxy, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: krdc-proxy, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: krdc-user}
subjects:
- {kind: ServiceAccount, name: krdc-proxy, namespace: $ns}
EOF
    if [[ $users == *" $ns "* ]]; then
      cat <<EOF
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: krdc-user-$ns, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: krdc-user}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "oidc:$ns"}
EOF
    fi
  done
}

# users allowed per plane (the contract: kisti alice+bob, unist alice only; carol nowhere)
plane_users() { case $1 in kisti) echo alice bob ;; *) echo alice ;; esac; }
