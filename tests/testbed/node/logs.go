package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serveLogs serves kubelet's /containerLogs API on 127.0.0.1 so `kubectl logs` (pods/log through the API
// server) works, including follow.
func serveLogs(c config, m *manager) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", func(rw http.ResponseWriter, r *http.Request) { m.containerLogs(rw, r) })
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(rw, "ok") })
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.clientCA != "" {
		pem, err := os.ReadFile(c.clientCA)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", c.clientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	srv := &http.Server{
		Addr:              fmt.Sprintf("127.0.0.1:%d", c.port),
		Handler:           mux,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	return srv.ListenAndServeTLS(c.tlsCert, c.tlsKey)
}

type logRecord struct {
	ts      time.Time
	rawTS   string
	stream  string
	partial bool
	content []byte
}

func parseRecord(line []byte) (logRecord, bool) {
	// "<ts> <stream> <F|P> <content>"
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 3 {
		return logRecord{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return logRecord{}, false
	}
	r := logRecord{ts: ts, rawTS: string(parts[0]), stream: string(parts[1]), partial: string(parts[2]) == "P"}
	if len(parts) == 4 {
		r.content = parts[3]
	}
	return r, true
}

func (r logRecord) render(timestamps bool) []byte {
	var b bytes.Buffer
	if timestamps {
		b.WriteString(r.ts.UTC().Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.Write(r.content)
	if !r.partial {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

type logQuery struct {
	follow, timestamps bool
	tail               int64 // -1: all
	limit              int64 // -1: none
	since              time.Time
	previous           bool
}

func parseLogQuery(r *http.Request) (logQuery, error) {
	q := r.URL.Query()
	o := logQuery{tail: -1, limit: -1}
	b := func(k string) bool { v := q.Get(k); return v == "true" || v == "1" }
	o.follow, o.timestamps, o.previous = b("follow"), b("timestamps"), b("previous")
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return o, fmt.Errorf("bad tailLines %q", v)
		}
		o.tail = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("bad limitBytes %q", v)
		}
		o.limit = n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("bad sinceSeconds %q", v)
		}
		o.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, fmt.Errorf("bad sinceTime %q", v)
		}
		o.since = t
	}
	return o, nil
}

// logSource finds the log file of a container and whether more may still be written to it.
func (m *manager) logSource(ns, pod, ctr string, previous bool) (path string, live func() bool, status int, err error) {
	w := m.lookup(ns, pod)
	if w == nil {
		return m.orphanLog(ns, pod, ctr, previous)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.all() {
		if c.spec.Name != ctr {
			continue
		}
		if previous {
			if c.shownRestarts == 0 {
				return "", nil, http.StatusBadRequest, fmt.Errorf("previous terminated container %q in pod %q not found", ctr, pod)
			}
			return c.logFile(c.shownRestarts - 1), func() bool { return false }, 0, nil
		}
		if c.shownLog == "" {
			return "", nil, http.StatusBadRequest, fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating", ctr, pod)
		}
		lw := c.shownLW
		return c.shownLog, func() bool { return lw != nil && !lw.isClosed() }, 0, nil
	}
	return "", nil, http.StatusBadRequest, fmt.Errorf("container %s is not valid for pod %s", ctr, pod)
}

func (m *manager) containerLogs(rw http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.Error(rw, "path must be /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	q, err := parseLogQuery(r)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	path, live, code, err := m.logSource(parts[0], parts[1], parts[2], q.previous)
	if err != nil {
		http.Error(rw, err.Error(), code)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	rw.Header().Set("Content-Type", "text/plain")
	flusher, _ := rw.(http.Flusher)
	remaining := q.limit
	emit := func(b []byte) bool { // false: limit reached or client gone
		if remaining >= 0 {
			if int64(len(b)) > remaining {
				b = b[:remaining]
			}
			remaining -= int64(len(b))
		}
		if _, err := rw.Write(b); err != nil {
			return false
		}
		return remaining != 0
	}

	// 1. what is there now (tail and since apply here)
	br := bufio.NewReaderSize(f, 64*1024)
	var recs []logRecord
	var pending []byte // an incomplete trailing line (the writer is mid-write)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			pending = line
			break
		}
		if rec, ok := parseRecord(line[:len(line)-1]); ok && !rec.ts.Before(q.since) {
			if q.tail < 0 { // no tail: stream, do not hold the whole log in memory
				if !emit(rec.render(q.timestamps)) {
					return
				}
				continue
			}
			recs = append(recs, rec)
		}
	}
	if q.tail >= 0 {
		// count logical lines: a line is any run of partial records ended by a full one
		n, i := int64(0), len(recs)
		for i > 0 {
			if !recs[i-1].partial {
				if n == q.tail {
					break
				}
				n++
			}
			i--
		}
		recs = recs[i:]
	}
	for _, rec := range recs {
		if !emit(rec.render(q.timestamps)) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	if !q.follow {
		return
	}
	// 2. follow: poll for new complete lines until the container has ended and everything is read
	buf := append([]byte(nil), pending...)
	chunk := make([]byte, 32*1024)
	for {
		stillLive := live()
		for {
			n, err := f.Read(chunk)
			buf = append(buf, chunk[:n]...)
			if n == 0 || err != nil {
				break
			}
		}
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if rec, ok := parseRecord(buf[:i]); ok && !rec.ts.Before(q.since) {
				if !emit(rec.render(q.timestamps)) {
					return
				}
			}
			buf = buf[i+1:]
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !stillLive {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTail returns the last lines of a container log (for FallbackToLogsOnError), bounded in lines and bytes.
func logTail(path string, lines, maxBytes int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		if rec, ok := parseRecord(l); ok {
			out = append(out, string(rec.render(false)))
		}
	}
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	s := strings.Join(out, "")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}

// orphanLog serves the log of a pod that finished before this agent started (its sandbox is still on disk):
// logs of finished pods survive a restart of the node agent, as they survive a kubelet restart.
func (m *manager) orphanLog(ns, pod, ctr string, previous bool) (string, func() bool, int, error) {
	notFound := fmt.Errorf("pod %s/%s not found on this node", ns, pod)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := m.cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil || p.Spec.NodeName != m.c.nodeName {
		return "", nil, http.StatusNotFound, notFound
	}
	dir := filepath.Join(m.c.stateDir, "pods", string(p.UID), "containers", ctr)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var runs []int
	for _, l := range logs {
		if n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(l), ".log")); err == nil {
			runs = append(runs, n)
		}
	}
	sort.Ints(runs)
	if previous {
		if len(runs) < 2 {
			return "", nil, http.StatusBadRequest, fmt.Errorf("previous terminated container %q in pod %q not found", ctr, pod)
		}
		runs = runs[:len(runs)-1]
	}
	if len(runs) == 0 {
		return "", nil, http.StatusNotFound, notFound
	}
	return filepath.Join(dir, fmt.Sprintf("%d.log", runs[len(runs)-1])), func() bool { return false }, 0, nil
}
