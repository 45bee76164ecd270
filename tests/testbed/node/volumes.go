package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// fileData is one file of a materialized volume.
type fileData struct {
	data []byte
	mode os.FileMode
}

// tokenCache keeps service account tokens per volume file so they are renewed at 80% of their lifetime,
// like kubelet does, rather than on every resync.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	token   string
	renewAt time.Time
}

// volumeMaterializer writes Secret, ConfigMap, downward API and projected volumes into a pod's sandbox with
// kubelet's atomic-writer layout (files are symlinks into ..data, which is swapped atomically), so a pod
// sees updates (a renewed Secret, a refreshed token) without a restart.
type volumeMaterializer struct {
	cs     kubernetes.Interface
	tokens tokenCache
}

func newVolumeMaterializer(cs kubernetes.Interface) *volumeMaterializer {
	return &volumeMaterializer{cs: cs, tokens: tokenCache{m: map[string]cachedToken{}}}
}

func modeOr(m *int32, def int32) os.FileMode {
	if m != nil {
		return os.FileMode(*m) & 0o777
	}
	return os.FileMode(def) & 0o777
}

// sync (re)materializes every volume of the pod under dir/volumes/<name>. It returns, per volume name, the
// host directory to bind-mount.
func (v *volumeMaterializer) sync(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, vol := range pod.Spec.Volumes {
		vdir := filepath.Join(dir, "volumes", vol.Name)
		var files map[string]fileData
		var err error
		switch {
		case vol.EmptyDir != nil:
			err = os.MkdirAll(vdir, 0o777)
			if err == nil {
				err = os.Chmod(vdir, 0o777)
			}
			out[vol.Name] = vdir
			if err != nil {
				return nil, err
			}
			continue
		case vol.HostPath != nil:
			p := vol.HostPath.Path
			if vol.HostPath.Type != nil && *vol.HostPath.Type == corev1.HostPathDirectoryOrCreate {
				_ = os.MkdirAll(p, 0o755)
			}
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("volume %q: hostPath %s: %w", vol.Name, p, err)
			}
			out[vol.Name] = p
			continue
		case vol.Secret != nil:
			files, err = v.secretFiles(ctx, pod.Namespace, vol.Secret.SecretName, vol.Secret.Items, modeOr(vol.Secret.DefaultMode, 0o644), vol.Secret.Optional)
		case vol.ConfigMap != nil:
			files, err = v.configMapFiles(ctx, pod.Namespace, vol.ConfigMap.Name, vol.ConfigMap.Items, modeOr(vol.ConfigMap.DefaultMode, 0o644), vol.ConfigMap.Optional)
		case vol.DownwardAPI != nil:
			files, err = downwardFiles(pod, vol.DownwardAPI.Items, modeOr(vol.DownwardAPI.DefaultMode, 0o644))
		case vol.Projected != nil:
			files, err = v.projectedFiles(ctx, pod, vol.Name, vol.Projected)
		default:
			return nil, fmt.Errorf("volume %q: this volume type is not supported by the krdc process node (emptyDir, hostPath, secret, configMap, downwardAPI, projected are)", vol.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
		}
		if err := writeAtomic(vdir, files); err != nil {
			return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
		}
		out[vol.Name] = vdir
	}
	return out, nil
}

func (v *volumeMaterializer) secretFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, mode os.FileMode, optional *bool) (map[string]fileData, error) {
	s, err := v.cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return map[string]fileData{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return keyFiles("secret "+name, s.Data, items, mode, optional)
}

func (v *volumeMaterializer) configMapFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, mode os.FileMode, optional *bool) (map[string]fileData, error) {
	cm, err := v.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return map[string]fileData{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", name, err)
	}
	data := map[string][]byte{}
	for k, s := range cm.Data {
		data[k] = []byte(s)
	}
	for k, b := range cm.BinaryData {
		data[k] = b
	}
	return keyFiles("configmap "+name, data, items, mode, optional)
}

func keyFiles(what string, data map[string][]byte, items []corev1.KeyToPath, mode os.FileMode, optional *bool) (map[string]fileData, error) {
	out := map[string]fileData{}
	if len(items) == 0 {
		for k, b := range data {
			out[k] = fileData{b, mode}
		}
		return out, nil
	}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("%s has no key %q", what, it.Key)
		}
		out[it.Path] = fileData{b, modeOr(it.Mode, int32(mode))}
	}
	return out, nil
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, mode os.FileMode) (map[string]fileData, error) {
	out := map[string]fileData{}
	for _, it := range items {
		if it.FieldRef == nil {
			return nil, fmt.Errorf("downwardAPI %q: only fieldRef is supported", it.Path)
		}
		val, err := fieldValue(pod, it.FieldRef.FieldPath)
		if err != nil {
			return nil, err
		}
		out[it.Path] = fileData{[]byte(val), modeOr(it.Mode, int32(mode))}
	}
	return out, nil
}

func (v *volumeMaterializer) projectedFiles(ctx context.Context, pod *corev1.Pod, volName string, p *corev1.ProjectedVolumeSource) (map[string]fileData, error) {
	mode := modeOr(p.DefaultMode, 0o644)
	out := map[string]fileData{}
	add := func(m map[string]fileData) {
		for k, f := range m {
			out[k] = f
		}
	}
	for _, src := range p.Sources {
		switch {
		case src.Secret != nil:
			m, err := v.secretFiles(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, mode, src.Secret.Optional)
			if err != nil {
				return nil, err
			}
			add(m)
		case src.ConfigMap != nil:
			m, err := v.configMapFiles(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, mode, src.ConfigMap.Optional)
			if err != nil {
				return nil, err
			}
			add(m)
		case src.DownwardAPI != nil:
			m, err := downwardFiles(pod, src.DownwardAPI.Items, mode)
			if err != nil {
				return nil, err
			}
			add(m)
		case src.ServiceAccountToken != nil:
			tok, err := v.saToken(ctx, pod, volName, src.ServiceAccountToken)
			if err != nil {
				return nil, err
			}
			out[src.ServiceAccountToken.Path] = fileData{[]byte(tok), mode}
		default:
			return nil, fmt.Errorf("projected source not supported by the krdc process node")
		}
	}
	return out, nil
}

// saToken asks the API server for a token bound to the pod (TokenRequest), renewing at 80% of its lifetime.
func (v *volumeMaterializer) saToken(ctx context.Context, pod *corev1.Pod, volName string, s *corev1.ServiceAccountTokenProjection) (string, error) {
	key := string(pod.UID) + "/" + volName + "/" + s.Path
	v.tokens.mu.Lock()
	ct, ok := v.tokens.m[key]
	v.tokens.mu.Unlock()
	if ok && time.Now().Before(ct.renewAt) {
		return ct.token, nil
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(3600)
	if s.ExpirationSeconds != nil {
		exp = *s.ExpirationSeconds
	}
	tr := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if s.Audience != "" {
		tr.Spec.Audiences = []string{s.Audience}
	}
	res, err := v.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %q: %w", sa, err)
	}
	life := res.Status.ExpirationTimestamp.Sub(time.Now())
	v.tokens.mu.Lock()
	v.tokens.m[key] = cachedToken{token: res.Status.Token, renewAt: time.Now().Add(life * 8 / 10)}
	v.tokens.mu.Unlock()
	return res.Status.Token, nil
}

func (v *volumeMaterializer) forget(uid string) {
	v.tokens.mu.Lock()
	defer v.tokens.mu.Unlock()
	for k := range v.tokens.m {
		if strings.HasPrefix(k, uid+"/") {
			delete(v.tokens.m, k)
		}
	}
}

// writeAtomic lays files out as kubelet's AtomicWriter does: dir/..<timestamp>/<files>, dir/..data -> ..<timestamp>
// (replaced by rename, atomically), and dir/<top-level name> -> ..data/<top-level name>. Unchanged content is
// left alone.
func writeAtomic(dir string, files map[string]fileData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dataLink := filepath.Join(dir, "..data")
	if old, err := os.Readlink(dataLink); err == nil && sameContent(filepath.Join(dir, old), files) {
		return nil
	}
	ts := filepath.Join(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05.000000000"))
	if err := os.MkdirAll(ts, 0o755); err != nil {
		return err
	}
	tops := map[string]bool{}
	for p, f := range files {
		clean := filepath.Clean(p)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("invalid path %q", p)
		}
		full := filepath.Join(ts, clean)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(full, f.mode); err != nil {
			return err
		}
		tops[strings.SplitN(clean, "/", 2)[0]] = true
	}
	old, _ := os.Readlink(dataLink)
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	for t := range tops {
		l := filepath.Join(dir, t)
		if _, err := os.Lstat(l); err != nil {
			if err := os.Symlink(filepath.Join("..data", t), l); err != nil {
				return err
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			if n != "..data" && n != filepath.Base(ts) {
				_ = os.RemoveAll(filepath.Join(dir, n))
			}
			continue
		}
		if !tops[n] {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
	_ = old
	return nil
}

func sameContent(dir string, files map[string]fileData) bool {
	n := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		f, ok := files[rel]
		if !ok {
			return fmt.Errorf("extra")
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.data) || info.Mode().Perm() != f.mode {
			return fmt.Errorf("differs")
		}
		n++
		return nil
	})
	return err == nil && n == len(files)
}

// fieldValue resolves a downward API fieldPath.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	mapStr := func(m map[string]string) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q\n", k, m[k])
		}
		return b.String()
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return mapStr(pod.Labels), nil
	case "metadata.annotations":
		return mapStr(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.podIP":
		return "127.0.0.1", nil
	case "status.hostIPs", "status.podIPs":
		return "127.0.0.1", nil
	}
	for _, pre := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(path, pre) && strings.HasSuffix(path, "']") {
			k := path[len(pre) : len(path)-2]
			if strings.HasPrefix(pre, "metadata.labels") {
				return pod.Labels[k], nil
			}
			return pod.Annotations[k], nil
		}
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}
