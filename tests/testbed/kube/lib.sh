# Shared by build/up/down/restart-apiserver. Sourced, not executed.
KUBE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KUBE_DIR/../../.." && pwd)
# shellcheck source=versions
. "$KUBE_DIR/versions"
STATE=${KRDC_TESTBED_STATE:-$HOME/.cache/krdc-testbed/state}
# The cache a plane was built from is recorded in its state dir, so scripts run later with another $HOME (tests
# isolate krdc's own cache that way) but the same KRDC_TESTBED_STATE still find the binaries.
if [[ -z ${KRDC_TESTBED_CACHE:-} && -s $STATE/kube-cache ]]; then
  CACHE=$(cat "$STATE/kube-cache")
else
  CACHE=${KRDC_TESTBED_CACHE:-$HOME/.cache/krdc-testbed}
fi
K8S_BIN=$CACHE/k8s-$K8S_VERSION/bin
ETCD_BIN=$CACHE/etcd-$ETCD_VERSION/bin
NODE_BIN=$CACHE/node-$K8S_VERSION/bin
export GOMODCACHE=$CACHE/gomod GOCACHE=$CACHE/gocache GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { printf '[kube %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# plane -> ports
plane_ports() {
  case $1 in
    kisti) APISERVER_PORT=16443 ETCD_CLIENT_PORT=12379 ETCD_PEER_PORT=12380 NODE_PORT=16250 KCM_PORT=16257 ;;
    unist) APISERVER_PORT=26443 ETCD_CLIENT_PORT=22379 ETCD_PEER_PORT=22380 NODE_PORT=26250 KCM_PORT=26257 ;;
    # a throwaway third plane for tests that must take a plane down (test_testbed_kube_down)
    scratch) APISERVER_PORT=16543 ETCD_CLIENT_PORT=16479 ETCD_PEER_PORT=16480 NODE_PORT=16350 KCM_PORT=16357 ;;
    *) die "unknown plane '$1' (kisti|unist|scratch)" ;;
  esac
}

planes_arg() {
  case ${1:-all} in
    all) echo kisti unist ;;
    # down/everything: also the scratch plane if a test left it running
    every) echo kisti unist scratch ;;
    kisti|unist|scratch) echo "$1" ;;
    *) die "unknown plane '$1' (kisti|unist|scratch|all)" ;;
  esac
}

# Pid files hold the pid only (the top-level tests/testbed/down parses them too). A pid counts as ours only
# if its command line mentions the state dir (every process started here gets it in its arguments), so a
# recycled pid of an unrelated process is never signalled.
# alive PID: exists and is not a zombie (a dead child whose parent has not reaped it yet is gone for us)
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}
pid_of() { local f=$1 pid; [[ -s $f ]] || return 1; pid=$(head -c 32 "$f" | tr -dc 0-9); [[ -n $pid ]] && echo "$pid"; }
pid_alive() {
  local pid
  pid=$(pid_of "$1") || return 1
  alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE"
}

# stop_pidfile FILE [grace-seconds]: TERM exactly the recorded pid, wait, escalate to KILL, remove file.
stop_pidfile() {
  local f=$1 grace=${2:-10} pid i
  [[ -e $f ]] || return 0
  if pid_alive "$f"; then
    pid=$(pid_of "$f")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "pid $pid ($(basename "$f")) ignored SIGTERM for ${grace}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    fi
    if alive "$pid"; then
      log "ERROR: pid $pid ($(basename "$f")) survived SIGKILL"
      return 1
    fi
    log "stopped $(basename "$f" .pid) (pid $pid)"
  fi
  rm -f "$f"
}

# start_bg NAME PIDFILE LOGFILE cmd...: start detached in its own session; record the pid.
start_bg() {
  local name=$1 pidf=$2 logf=$3; shift 3
  setsid "$@" >>"$logf" 2>&1 < /dev/null 8>&- &
  local pid=$!
  echo "$pid" > "$pidf"
  log "started $name (pid $pid, log $logf)"
}

# wait_until SECONDS DESCRIPTION cmd...: poll cmd every 0.5s.
wait_until() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.5
  done
}

# kube_lock: one kube up/down/restart at a time per state dir (fd 8; closed for the servers we start).
kube_lock() {
  mkdir -p "$STATE"
  exec 8>>"$STATE/kube.lock"
  flock -w 900 8 || die "another tests/testbed/kube script holds $STATE/kube.lock for 15 min"
}
