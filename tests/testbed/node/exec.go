package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const execPodCmd = "__exec-pod"

// mountSpec is one bind mount made inside the pod's private mount namespace.
type mountSpec struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	File     bool   `json:"file,omitempty"`
}

type execSpec struct {
	Mounts []mountSpec `json:"mounts"`
	Dir    string      `json:"dir"`
	Argv   []string    `json:"argv"`
}

func ensureTerminationPlaceholder(p string) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		return err
	}
	return f.Close()
}

// execPod runs as `krdc-node __exec-pod SPEC.json` in a fresh mount namespace whose propagation is already
// private (Go's Unshareflags=CLONE_NEWNS makes / rprivate in the child): it makes the bind mounts, changes to
// the working directory and execs the app, which so keeps this pid.
func execPod(args []string) {
	fail := func(f string, a ...interface{}) {
		fmt.Fprintf(os.Stderr, "krdc-node: "+f+"\n", a...)
		os.Exit(128)
	}
	if len(args) != 1 {
		fail("usage: %s SPEC.json", execPodCmd)
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		fail("%v", err)
	}
	var s execSpec
	if err := json.Unmarshal(b, &s); err != nil {
		fail("%v", err)
	}
	for _, m := range s.Mounts {
		if _, err := os.Stat(m.Target); errors.Is(err, os.ErrNotExist) {
			// A bind mount needs a mount point. It is created on the host filesystem (empty, harmless); the
			// pod's content is only visible inside this namespace.
			if m.File {
				err = ensureTerminationPlaceholder(m.Target)
			} else {
				err = os.MkdirAll(m.Target, 0o755)
			}
			if err != nil {
				fail("mount point %s: %v", m.Target, err)
			}
		}
		if err := unix.Mount(m.Source, m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			fail("bind %s on %s: %v", m.Source, m.Target, err)
		}
		if m.ReadOnly {
			if err := unix.Mount("", m.Target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
				fail("read-only %s: %v", m.Target, err)
			}
		}
	}
	if err := os.Chdir(s.Dir); err != nil {
		fail("working directory %s: %v", s.Dir, err)
	}
	path := s.Argv[0]
	if !strings.Contains(path, "/") {
		if path, err = exec.LookPath(path); err != nil {
			fail("%s: executable file not found in $PATH", s.Argv[0])
		}
	}
	err = syscall.Exec(path, s.Argv, os.Environ())
	fail("exec %s: %v", s.Argv[0], err)
}

// sortMounts orders mounts so a parent directory is mounted before anything inside it.
func sortMounts(ms []mountSpec) {
	sort.SliceStable(ms, func(i, j int) bool {
		return strings.Count(filepath.Clean(ms[i].Target), "/") < strings.Count(filepath.Clean(ms[j].Target), "/")
	})
}

// proc is one started container process.
type proc struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	exited  chan struct{}
	state   *os.ProcessState
	logs    *logWriter
}

// startProc starts argv in a new process group and mount namespace with stdout/stderr going to the CRI-style
// log file. pidFile receives "pid starttime" so tests/testbed/kube/down can find strays if the agent died.
func startProc(self string, specPath string, env []string, logPath string, pidFile string) (*proc, error) {
	lw, err := openLogWriter(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, execPodCmd, specPath)
	cmd.Env = env
	cmd.Dir = "/"
	outR, outW, err := os.Pipe()
	if err != nil {
		lw.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		lw.Close()
		return nil, err
	}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:      true,
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		lw.Close()
		return nil, err
	}
	outW.Close()
	errW.Close()
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), exited: make(chan struct{}), logs: lw}
	if st, err := procStartTime(p.pid); err == nil {
		_ = os.WriteFile(pidFile, []byte(fmt.Sprintf("%d %s\n", p.pid, st)), 0o600)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); lw.copy("stdout", outR); outR.Close() }()
	go func() { defer wg.Done(); lw.copy("stderr", errR); errR.Close() }()
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		// Like a container's end: whatever the main process left behind in its group dies with it,
		// which also closes the pipes.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second): // a grandchild escaped the group and holds the pipe
		}
		lw.Close()
		_ = os.Remove(pidFile)
		close(p.exited)
	}()
	return p, nil
}

// exitCode maps a wait status to a container exit code (128+signal when killed).
func (p *proc) exitCode() int {
	if p.state == nil {
		return -1
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.state.ExitCode()
}

func (p *proc) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pid, sig)
}

func procStartTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("bad stat")
	}
	return f[19], nil // field 22: starttime
}

// logWriter writes container output in the CRI log format kubelet uses:
// "<RFC3339Nano> <stream> <F|P> <content>\n" (P = partial line, F = full line).
type logWriter struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func openLogWriter(p string) (*logWriter, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f}, nil
}

func (l *logWriter) copy(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, 16*1024)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "P"
			if line[len(line)-1] == '\n' {
				tag = "F"
				line = line[:len(line)-1]
			}
			l.write(stream, tag, line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (l *logWriter) write(stream, tag string, content []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	buf := make([]byte, 0, len(content)+48)
	buf = time.Now().UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, ' ')
	buf = append(buf, stream...)
	buf = append(buf, ' ')
	buf = append(buf, tag...)
	buf = append(buf, ' ')
	buf = append(buf, content...)
	buf = append(buf, '\n')
	_, _ = l.f.Write(buf)
}

func (l *logWriter) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (l *logWriter) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		_ = l.f.Close()
	}
}
