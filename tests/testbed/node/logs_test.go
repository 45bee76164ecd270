package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

// logServer returns a test server for one pod ns/p with container c whose log is written through a logWriter.
func logServer(t *testing.T) (*httptest.Server, *logWriter, *container) {
	t.Helper()
	d := t.TempDir()
	lw, err := openLogWriter(filepath.Join(d, "0.log"))
	if err != nil {
		t.Fatal(err)
	}
	c := &container{spec: corev1.Container{Name: "c"}, dir: d, shownLog: filepath.Join(d, "0.log"), shownLW: lw}
	w := &worker{ns: "ns", name: "p", uid: types.UID("u"), ctrs: []*container{c}}
	m := &manager{cs: fake.NewClientset(), workers: map[types.UID]*worker{"u": w}, byName: map[string]*worker{"ns/p": w}}
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", m.containerLogs)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, lw, c
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestContainerLogsOptions(t *testing.T) {
	srv, lw, _ := logServer(t)
	for _, l := range []string{"one", "two", "three"} {
		lw.write("stdout", "F", []byte(l))
	}
	lw.write("stderr", "P", []byte("par"))
	lw.write("stderr", "F", []byte("tial"))
	base := srv.URL + "/containerLogs/ns/p/c"
	if _, b := get(t, base); b != "one\ntwo\nthree\npartial\n" {
		t.Fatalf("all: %q", b)
	}
	if _, b := get(t, base+"?tailLines=2"); b != "three\npartial\n" {
		t.Fatalf("tail: %q", b)
	}
	if _, b := get(t, base+"?limitBytes=5"); b != "one\nt" {
		t.Fatalf("limit: %q", b)
	}
	if _, b := get(t, base+"?timestamps=true&tailLines=1"); !strings.HasSuffix(b, " tial\n") || !strings.Contains(b, "T") {
		t.Fatalf("timestamps: %q", b)
	}
	if code, _ := get(t, srv.URL+"/containerLogs/ns/nope/c"); code != http.StatusNotFound {
		t.Fatalf("unknown pod: %d", code)
	}
	if code, _ := get(t, base+"?previous=true"); code != http.StatusBadRequest {
		t.Fatalf("previous without restart: %d", code)
	}
}

// follow streams lines written later and ends when the container's log is closed (the container ended).
func TestContainerLogsFollow(t *testing.T) {
	srv, lw, _ := logServer(t)
	lw.write("stdout", "F", []byte("first"))
	go func() {
		time.Sleep(300 * time.Millisecond)
		lw.write("stdout", "F", []byte("second"))
		time.Sleep(300 * time.Millisecond)
		lw.Close()
	}()
	done := make(chan string)
	go func() { _, b := get(t, srv.URL+"/containerLogs/ns/p/c?follow=true"); done <- b }()
	select {
	case b := <-done:
		if b != "first\nsecond\n" {
			t.Fatalf("follow: %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end when the container ended")
	}
}

func TestExpandVars(t *testing.T) {
	env := map[string]string{"A": "x"}
	for in, want := range map[string]string{"$(A)-y": "x-y", "$$(A)": "$(A)", "$(B)": "$(B)", "a$": "a$"} {
		if got := expandVars(in, env); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}
