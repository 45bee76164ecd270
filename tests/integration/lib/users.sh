# Shared by the testbed integration scripts (sourced; not a test itself): a testbed user with
# their own krdc config and cache under $WORK/<user>, logged in through the real device flow
# (approved over HTTP by tests/testbed/approve-device), and small bounded waits.
# Needs: SRC, KRDC, WORK, fail(), and `eval "$("$SRC/tests/testbed/env")"` done.

KISTI=(kubectl --kubeconfig "$KRDC_TB_KISTI_KUBECONFIG")
UNIST=(kubectl --kubeconfig "$KRDC_TB_UNIST_KUBECONFIG")
LOGIN_PID=""

# Sets AS=(env ...) to run a command as testbed user $1.
as_user() { AS=(env XDG_CONFIG_HOME="$WORK/$1/config" XDG_CACHE_HOME="$WORK/$1/cache" HOME="$WORK/$1/home"); }

login() {  # USER NAMESPACE
  local u=$1 ns=$2 d=$WORK/$1 out=$WORK/$1/login.out uri=""
  mkdir -p "$d/config/krdc" "$d/cache" "$d/home"
  python3 -c 'import json,os,sys; sys.stdout.write(json.load(open(os.environ["KRDC_TB_SECRETS"]))["clients"]["krdc-cli"]["client_secret"])' \
    >"$d/config/krdc/cli.secret"
  cat >"$d/config/krdc/config.yaml" <<YAML
hub: {issuer: "$KRDC_TB_HUB", clientId: krdc-cli, clientSecretFile: cli.secret}
caFile: "$KRDC_TB_CA"
localCluster: kisti
proxyImage: krdc.example/krdc:dev
clusters:
  kisti: {server: "$KRDC_TB_KISTI_SERVER", audience: krdc-kisti, namespace: $ns}
  unist: {server: "$KRDC_TB_UNIST_SERVER", audience: krdc-unist, namespace: $ns}
YAML
  as_user "$u"
  "${AS[@]}" script -qfec "$KRDC login" /dev/null >"$out" 2>&1 &
  LOGIN_PID=$!
  for _ in $(seq 1 240); do
    uri=$(grep -ao 'https://[^ ]*user_code=[A-Za-z0-9-]*' "$out" 2>/dev/null | head -1 || true)
    [[ -n $uri ]] && break
    sleep 0.25
  done
  [[ -n $uri ]] || fail "krdc login ($u) printed no verification URI: $(cat "$out")"
  "$SRC/tests/testbed/approve-device" "$u" "$uri" >/dev/null || fail "approve-device $u failed"
  wait "$LOGIN_PID" || fail "krdc login ($u) failed: $(cat "$out")"
  LOGIN_PID=""
}

# How many records of result file $1 have event $2 (optionally: for step $3).
count_events() { python3 - "$@" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("event") == sys.argv[2] and (len(sys.argv) < 4 or r.get("step") == sys.argv[3]):
        n += 1
print(n)
PY
}

# Waits (bounded: $3 s) until result file $1 has at least $2 `submitted` records.
await_submitted() {
  local end=$((SECONDS + $3))
  while (( $(count_events "$1" submitted 2>/dev/null || echo 0) < $2 )); do
    ((SECONDS < end)) || fail "no $2 submitted records in $1 after $3 s"
    sleep 0.2
  done
}

# Waits (bounded) for background pid $1 to exit; sets RC (124 if it is still running after $2 s).
wait_exit() {
  local pid=$1 end=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
    if ((SECONDS >= end)); then RC=124; return 0; fi
    sleep 0.25
  done
  set +e; wait "$pid"; RC=$?; set -e
}

# Jobs per krdc/step label on one cluster ("step count" lines), for label selector $2.
jobs_per_step() {  # KISTI|UNIST SELECTOR
  local -n cluster=$1
  "${cluster[@]}" get jobs -A -l "$2" -o json | python3 -c '
import collections, json, sys
c = collections.Counter(j["metadata"]["labels"].get("krdc/step") for j in json.load(sys.stdin)["items"])
print(" ".join(f"{k}={v}" for k, v in sorted(c.items())))'
}
