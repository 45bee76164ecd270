package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The image table follows Kubernetes' command/args vs ENTRYPOINT/CMD rules.
func TestLookupImage(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "apps", "a"), 0o755)
	bin := filepath.Join(root, "krdc")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	table := filepath.Join(root, "images.yaml")
	os.WriteFile(table, []byte(`images:
  ex/a:1: {dir: apps/a, entrypoint: [python3, main.py], cmd: [--help], env: {X: "1"}}
  ex/krdc:dev: {binary: "${TEST_KRDC_BIN:-krdc}", entrypoint: [krdc]}
  ex/b:latest: {dir: apps/a, entrypoint: [sh]}
`), 0o644)
	cases := []struct {
		image         string
		command, args []string
		want          []string
	}{
		{"ex/a:1", nil, nil, []string{"python3", "main.py", "--help"}},
		{"ex/a:1", nil, []string{"--x", "1"}, []string{"python3", "main.py", "--x", "1"}},
		{"ex/a:1", []string{"python3", "other.py"}, nil, []string{"python3", "other.py"}},
		{"ex/a:1", []string{"python3", "other.py"}, []string{"-v"}, []string{"python3", "other.py", "-v"}},
		{"ex/krdc:dev", nil, []string{"proxy", "--x"}, []string{bin, "proxy", "--x"}},
		{"ex/krdc:dev", []string{"krdc", "proxy"}, nil, []string{bin, "proxy"}},
		{"ex/krdc:dev", []string{"/usr/local/bin/krdc"}, []string{"run"}, []string{bin, "run"}},
		{"ex/b", nil, nil, []string{"sh"}},
	}
	for _, c := range cases {
		r, err := lookupImage(table, root, c.image, c.command, c.args, "")
		if err != nil {
			t.Fatalf("%s %v %v: %v", c.image, c.command, c.args, err)
		}
		if !reflect.DeepEqual(r.argv, c.want) {
			t.Errorf("%s %v %v: argv %q, want %q", c.image, c.command, c.args, r.argv, c.want)
		}
	}
	r, _ := lookupImage(table, root, "ex/a:1", nil, nil, "")
	if r.dir != filepath.Join(root, "apps", "a") || r.env["X"] != "1" {
		t.Errorf("dir/env: %q %v", r.dir, r.env)
	}
	if _, err := lookupImage(table, root, "ex/none:1", nil, nil, ""); err == nil {
		t.Error("unknown image accepted")
	}
	t.Setenv("TEST_KRDC_BIN", filepath.Join(root, "missing"))
	if _, err := lookupImage(table, root, "ex/krdc:dev", nil, nil, ""); err == nil {
		t.Error("missing binary accepted")
	}
}
