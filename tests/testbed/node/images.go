package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// imageEntry says how to "run" an image on the process node (see tests/testbed/images.yaml).
type imageEntry struct {
	// Dir: the app directory (relative to the repo root); the container runs there, like an image's WORKDIR.
	Dir string `json:"dir,omitempty"`
	// Binary: a host executable that stands for the image's entrypoint (e.g. the krdc binary).
	Binary string `json:"binary,omitempty"`
	// Entrypoint: the image's ENTRYPOINT; used when the container has no command. With Binary, a command
	// whose first word has Entrypoint[0]'s base name (krdc, /usr/local/bin/krdc, …) runs Binary instead.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Cmd: the image's CMD; used when the container has neither command nor args.
	Cmd []string `json:"cmd,omitempty"`
	// Env: the image's ENV (the pod's env wins).
	Env map[string]string `json:"env,omitempty"`
}

type imageTable struct {
	Images map[string]imageEntry `json:"images"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} with the agent's environment.
func expand(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		g := envRef.FindStringSubmatch(m)
		if v, ok := os.LookupEnv(g[1]); ok && v != "" {
			return v
		}
		return g[3]
	})
}

// resolvedImage is an image made concrete for one container.
type resolvedImage struct {
	dir  string   // working directory
	argv []string // command+args, argv[0] resolved
	env  map[string]string
}

// lookupImage reads the table afresh (edits take effect for the next pod) and resolves the container's argv
// following the Kubernetes rules for command/args vs ENTRYPOINT/CMD.
func lookupImage(tablePath, repoRoot, image string, command, args []string, workingDir string) (*resolvedImage, error) {
	b, err := os.ReadFile(tablePath)
	if err != nil {
		return nil, fmt.Errorf("image table: %w", err)
	}
	var t imageTable
	if err := yaml.UnmarshalStrict(b, &t); err != nil {
		return nil, fmt.Errorf("image table %s: %w", tablePath, err)
	}
	e, ok := t.Images[image]
	if !ok {
		// allow an implicit ":latest"
		if !strings.Contains(image[strings.LastIndex(image, "/")+1:], ":") {
			e, ok = t.Images[image+":latest"]
		}
	}
	if !ok {
		return nil, fmt.Errorf("image %q is not in the process node's image table %s", image, tablePath)
	}
	abs := func(p string) string {
		p = expand(p)
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(repoRoot, p)
		}
		return p
	}
	r := &resolvedImage{env: map[string]string{}}
	for k, v := range e.Env {
		r.env[k] = expand(v)
	}
	switch {
	case workingDir != "" && dirExists(workingDir):
		r.dir = workingDir
	case e.Dir != "":
		r.dir = abs(e.Dir)
		if !dirExists(r.dir) {
			return nil, fmt.Errorf("image %q: app directory %s does not exist", image, r.dir)
		}
	default:
		r.dir = "/"
	}
	// Kubernetes: command replaces ENTRYPOINT (and drops CMD); args replace CMD.
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(append(argv, command...), args...)
	case len(args) > 0:
		argv = append(append(argv, e.Entrypoint...), args...)
	default:
		argv = append(append(argv, e.Entrypoint...), e.Cmd...)
	}
	if e.Binary != "" {
		bin := abs(e.Binary)
		if bin == "" {
			return nil, fmt.Errorf("image %q: binary %q expands to nothing (is its variable set for the node agent?)", image, e.Binary)
		}
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("image %q: binary %s is not an executable file", image, bin)
		}
		switch {
		case len(argv) == 0:
			argv = []string{bin}
		case len(e.Entrypoint) > 0 && filepath.Base(argv[0]) == filepath.Base(e.Entrypoint[0]):
			// `krdc`, `/usr/local/bin/krdc`, …: the image's entrypoint by any path is the binary
			argv[0] = bin
		case len(command) == 0:
			argv = append([]string{bin}, argv...)
		}
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("image %q: no command (the container has none and the table gives no entrypoint)", image)
	}
	return r.withArgv(argv), nil
}

func (r *resolvedImage) withArgv(a []string) *resolvedImage { r.argv = a; return r }

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
