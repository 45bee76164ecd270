package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as krdc-node for the re-exec into the pod's mount namespace.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == execPodCmd {
		execPod(os.Args[2:])
		return
	}
	os.Exit(m.Run())
}

// A container's termination file and volume appear at the spec's paths inside its mount namespace only,
// its output lands in the CRI log, and its exit code is reported.
func TestStartProcMountsAndLogs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for mount namespaces")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	d := t.TempDir()
	vol := filepath.Join(d, "vol")
	os.MkdirAll(vol, 0o755)
	os.WriteFile(filepath.Join(vol, "key"), []byte("secret-value"), 0o644)
	term := filepath.Join(d, "termination-log")
	os.WriteFile(term, nil, 0o666)
	target := filepath.Join(d, "not-yet", "mnt") // created on demand
	tpath := filepath.Join(d, "placeholder-termination-log")
	spec := execSpec{Dir: "/", Argv: []string{"sh", "-c", "cat " + target + "/key; echo; echo err >&2; printf partial; echo '{\"ok\":1}' > " + tpath + "; exit 7"},
		Mounts: []mountSpec{{Source: vol, Target: target, ReadOnly: true}, {Source: term, Target: tpath, File: true}}}
	b, _ := json.Marshal(spec)
	sp := filepath.Join(d, "exec.json")
	os.WriteFile(sp, b, 0o600)
	self, _ := os.Executable()
	p, err := startProc(self, sp, []string{"PATH=" + os.Getenv("PATH")}, filepath.Join(d, "0.log"), filepath.Join(d, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit")
	}
	if c := p.exitCode(); c != 7 {
		t.Fatalf("exit code %d", c)
	}
	got, _ := os.ReadFile(term)
	if strings.TrimSpace(string(got)) != `{"ok":1}` {
		t.Fatalf("termination file: %q", got)
	}
	if b, _ := os.ReadFile(tpath); len(b) != 0 {
		t.Fatalf("host placeholder got content %q", b)
	}
	if _, err := os.Stat(filepath.Join(target, "key")); err == nil {
		t.Fatal("volume visible on the host")
	}
	logb, _ := os.ReadFile(filepath.Join(d, "0.log"))
	lines := strings.Split(strings.TrimSpace(string(logb)), "\n")
	var out []string
	for _, l := range lines {
		r, ok := parseRecord([]byte(l))
		if !ok {
			t.Fatalf("bad log line %q", l)
		}
		out = append(out, r.stream+":"+string(r.render(false)))
	}
	all := strings.Join(out, "|")
	for _, w := range []string{"stdout:secret-value\n", "stderr:err\n", "stdout:partial"} {
		if !strings.Contains(all, w) {
			t.Fatalf("log %q lacks %q", all, w)
		}
	}
}
