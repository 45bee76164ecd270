package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

const (
	component          = "kubelet"
	maxTermMsg         = 4096
	maxFallbackLines   = 80
	maxFallbackBytes   = 2048
	// a kubelet's --sync-frequency default: a changed Secret reaches a running pod within it, or at once
	// when the pod's annotations change (see the updates case in run)
	volumeResyncPeriod = 60 * time.Second
)

// manager keeps one worker per pod bound to this node.
type manager struct {
	c       config
	cs      kubernetes.Interface
	vols    *volumeMaterializer
	self    string
	mu      sync.Mutex
	workers map[types.UID]*worker
	byName  map[string]*worker // ns/name -> latest worker, for the log server
}

func newManager(c config, cs kubernetes.Interface) *manager {
	self, err := os.Executable()
	if err != nil {
		log.Fatalf("own executable: %v", err)
	}
	return &manager{c: c, cs: cs, vols: newVolumeMaterializer(cs), self: self,
		workers: map[types.UID]*worker{}, byName: map[string]*worker{}}
}

func (m *manager) run(ctx context.Context) {
	f := informers.NewSharedInformerFactoryWithOptions(m.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", m.c.nodeName).String()
	}))
	inf := f.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { m.dispatch(ctx, o.(*corev1.Pod)) },
		UpdateFunc: func(_, o interface{}) { m.dispatch(ctx, o.(*corev1.Pod)) },
		DeleteFunc: func(o interface{}) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				m.removed(p)
			}
		},
	})
	f.Start(ctx.Done())
	if cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		m.gcSandboxes(inf.GetStore())
	}
	<-ctx.Done()
}

// gcSandboxes removes the sandboxes (volumes, logs) of pods deleted while this agent was not running.
func (m *manager) gcSandboxes(store cache.Store) {
	known := map[string]bool{}
	for _, o := range store.List() {
		known[string(o.(*corev1.Pod).UID)] = true
	}
	entries, _ := os.ReadDir(filepath.Join(m.c.stateDir, "pods"))
	for _, e := range entries {
		if e.IsDir() && !known[e.Name()] {
			m.mu.Lock()
			_, running := m.workers[types.UID(e.Name())]
			m.mu.Unlock()
			if !running {
				_ = os.RemoveAll(filepath.Join(m.c.stateDir, "pods", e.Name()))
			}
		}
	}
}

func (m *manager) dispatch(ctx context.Context, pod *corev1.Pod) {
	m.mu.Lock()
	w, ok := m.workers[pod.UID]
	if !ok {
		terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
		switch {
		case terminal:
			m.mu.Unlock()
			if pod.DeletionTimestamp != nil {
				go func() { _ = m.finalDelete(ctx, pod) }()
			}
			return
		case podWasStarted(pod):
			// Started by an earlier run of this agent, which took its processes with it.
			m.mu.Unlock()
			go m.reportLost(ctx, pod)
			return
		}
		w = newWorker(m, pod)
		m.workers[pod.UID] = w
		m.byName[pod.Namespace+"/"+pod.Name] = w
		m.mu.Unlock()
		go w.run(ctx)
		return
	}
	m.mu.Unlock()
	w.update(pod)
}

func podWasStarted(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
			return true
		}
	}
	return false
}

func (m *manager) removed(pod *corev1.Pod) {
	m.mu.Lock()
	w, ok := m.workers[pod.UID]
	delete(m.workers, pod.UID)
	if cur := m.byName[pod.Namespace+"/"+pod.Name]; cur == w {
		delete(m.byName, pod.Namespace+"/"+pod.Name)
	}
	m.mu.Unlock()
	m.vols.forget(string(pod.UID))
	if ok {
		w.forceKill() // force-deleted while running: nothing may survive
		go func() {
			<-w.done
			_ = os.RemoveAll(w.dir)
		}()
		return
	}
	// a pod finished before this agent started: only its sandbox (logs) is left
	_ = os.RemoveAll(filepath.Join(m.c.stateDir, "pods", string(pod.UID)))
}

func (m *manager) lookup(ns, name string) *worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byName[ns+"/"+name]
}

// shutdown kills every running pod (a stopped node leaves no process behind) and reports them failed.
func (m *manager) shutdown() {
	m.mu.Lock()
	ws := make([]*worker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	for _, w := range ws {
		w.kill(2, "NodeShutdown", "the krdc process node was stopped")
	}
	deadline := time.After(8 * time.Second)
	for _, w := range ws {
		select {
		case <-w.finalCh:
		case <-w.done:
		case <-deadline:
			return
		}
	}
}

func (m *manager) finalDelete(ctx context.Context, pod *corev1.Pod) error {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := m.cs.CoreV1().Pods(pod.Namespace).Delete(c, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		if ctx.Err() == nil {
			log.Printf("delete %s/%s: %v (will retry)", pod.Namespace, pod.Name, err)
		}
		return err
	}
	return nil
}

func (m *manager) reportLost(ctx context.Context, pod *corev1.Pod) {
	now := nowSec()
	st := pod.Status.DeepCopy()
	st.Phase = corev1.PodFailed
	for i := range st.ContainerStatuses {
		c := &st.ContainerStatuses[i]
		if c.State.Terminated == nil {
			c.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: "ContainerStatusUnknown", FinishedAt: now,
				Message: "The container could not be located when the pod was terminated",
			}}
			c.Ready, c.Started = false, ptr.To(false)
		}
	}
	w := &worker{m: m, pod: pod, ns: pod.Namespace, name: pod.Name, uid: pod.UID}
	if err := w.postStatus(ctx, *st); err != nil {
		log.Printf("report lost pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	if pod.DeletionTimestamp != nil {
		_ = m.finalDelete(ctx, pod)
	}
}

// container is the agent's record of one container of a pod.
type container struct {
	init       bool // an init container: runs to completion, in order, before the app containers
	spec       corev1.Container
	dir        string
	logPath    string
	termPath   string
	proc       *proc
	restarts   int32
	waiting    *corev1.ContainerStateWaiting
	terminated *corev1.ContainerStateTerminated
	lastTerm   *corev1.ContainerStateTerminated
	startedAt  metav1.Time

	// read by the log server under worker.mu
	shownLog      string
	shownLW       *logWriter
	shownRestarts int32
}

func (c *container) logFile(restart int32) string {
	return filepath.Join(c.dir, fmt.Sprintf("%d.log", restart))
}

type killReq struct {
	grace   int64
	reason  string
	message string
}

// worker drives one pod: prepare volumes, start containers, report status, kill on deletion.
type worker struct {
	ns, name string // immutable copies (w.pod is swapped by the informer goroutine)
	uid      types.UID
	m        *manager
	dir      string
	mu       sync.Mutex
	pod      *corev1.Pod
	ctrs     []*container // app containers
	inits    []*container // init containers, in order
	initDone bool
	updates  chan struct{}
	killCh   chan killReq
	done     chan struct{}
	finalCh  chan struct{} // closed once the final status is settled

	// local, authoritative status pieces; only ever move forward
	startTime   metav1.Time
	final       bool
	phase       corev1.PodPhase
	reason, msg string
	killing     *killReq
	deleted     atomic.Bool // the pod is gone from the API (set by the informer goroutine)
	posted      *corev1.Pod // the pod as returned by our last status write
	dirty       bool        // the last status write failed
}

// rvNewer compares resourceVersions numerically (they are etcd revisions; fine for a test agent).
func rvNewer(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}

func newWorker(m *manager, pod *corev1.Pod) *worker {
	w := &worker{
		ns: pod.Namespace, name: pod.Name, uid: pod.UID,
		m: m, pod: pod.DeepCopy(),
		dir:     filepath.Join(m.c.stateDir, "pods", string(pod.UID)),
		updates: make(chan struct{}, 1),
		killCh:  make(chan killReq, 4),
		done:    make(chan struct{}),
		finalCh: make(chan struct{}),
		phase:   corev1.PodPending,
	}
	for _, c := range pod.Spec.InitContainers {
		cdir := filepath.Join(w.dir, "containers", c.Name)
		w.inits = append(w.inits, &container{spec: c, dir: cdir, init: true,
			logPath:  filepath.Join(cdir, "0.log"),
			termPath: filepath.Join(cdir, "termination-log"),
			waiting:  &corev1.ContainerStateWaiting{Reason: "PodInitializing"},
		})
	}
	w.initDone = len(w.inits) == 0
	waitReason := "ContainerCreating"
	if !w.initDone {
		waitReason = "PodInitializing"
	}
	for _, c := range pod.Spec.Containers {
		cdir := filepath.Join(w.dir, "containers", c.Name)
		w.ctrs = append(w.ctrs, &container{spec: c, dir: cdir,
			logPath:  filepath.Join(cdir, "0.log"),
			termPath: filepath.Join(cdir, "termination-log"),
			waiting:  &corev1.ContainerStateWaiting{Reason: waitReason},
		})
	}
	return w
}

// all: init containers then app containers.
func (w *worker) all() []*container {
	return append(append([]*container(nil), w.inits...), w.ctrs...)
}

func (w *worker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod.DeepCopy()
	w.mu.Unlock()
	select {
	case w.updates <- struct{}{}:
	default:
	}
}

func (w *worker) latest() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *worker) kill(grace int64, reason, msg string) {
	select {
	case w.killCh <- killReq{grace: grace, reason: reason, message: msg}:
	default:
	}
}

func (w *worker) forceKill() {
	w.deleted.Store(true)
	w.kill(0, "", "")
}

func (w *worker) logf(f string, a ...interface{}) {
	log.Printf("pod %s/%s: %s", w.ns, w.name, fmt.Sprintf(f, a...))
}

func (w *worker) event(ctx context.Context, typ, reason, msg, field string) {
	emitEvent(ctx, w.m.cs, w.latest(), typ, reason, msg, component, field)
}

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	pod := w.latest()
	w.startTime = nowSec()
	if pod.Status.StartTime != nil {
		w.startTime = *pod.Status.StartTime
	}
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		w.logf("sandbox: %v", err)
	}
	w.report(ctx)

	var deadline <-chan time.Time
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		left := time.Until(w.startTime.Add(time.Duration(*d) * time.Second))
		deadline = time.After(left)
	}
	resync := time.NewTicker(volumeResyncPeriod)
	defer resync.Stop()
	// a status write that failed (API server restarting) is retried until it lands
	statusRetry := time.NewTicker(2 * time.Second)
	defer statusRetry.Stop()
	retry := time.NewTimer(0)
	defer retry.Stop()
	exited := make(chan *container, len(w.ctrs)+len(w.inits))
	var killTimer <-chan time.Time
	volumes := map[string]string(nil)
	seenAnnotations := pod.Annotations

	for {
		pod = w.latest()
		if pod.DeletionTimestamp != nil && w.killing == nil && !w.final {
			grace := int64(30)
			if pod.DeletionGracePeriodSeconds != nil {
				grace = *pod.DeletionGracePeriodSeconds
			}
			w.beginKill(ctx, killReq{grace: grace}, &killTimer)
		}
		if w.final && w.deleted.Load() {
			return
		}
		if w.final && pod.DeletionTimestamp != nil {
			// the final status must land before the pod goes; both are retried while the API is away
			if w.dirty {
				w.report(ctx)
			}
			if !w.dirty && w.m.finalDelete(ctx, pod) == nil {
				return
			}
		}

		select {
		case <-ctx.Done():
			for _, c := range w.all() {
				if c.proc != nil && c.terminated == nil {
					c.proc.signal(syscall.SIGKILL)
				}
			}
			return
		case <-w.updates:
			// A kubelet re-syncs a pod's volumes when the pod changes, not only every sync period: updating
			// an annotation is the known way to make a renewed Secret reach a running pod at once (krdc does
			// it for its proxy pods after renewing their credential).
			if p := w.latest(); volumes != nil && !w.final && !maps.Equal(p.Annotations, seenAnnotations) {
				seenAnnotations = p.Annotations
				if _, err := w.m.vols.sync(ctx, p, w.dir); err != nil {
					w.logf("volume resync: %v", err)
				}
			}
			continue
		case k := <-w.killCh:
			if !w.final {
				w.beginKill(ctx, k, &killTimer)
			}
			if w.deleted.Load() {
				return
			}
		case <-deadline:
			if !w.final {
				w.beginKill(ctx, killReq{grace: ptr.Deref(pod.Spec.TerminationGracePeriodSeconds, 30), reason: "DeadlineExceeded",
					message: "Pod was active on the node longer than the specified deadline"}, &killTimer)
			}
		case <-killTimer:
			for _, c := range w.all() {
				if c.proc != nil && c.terminated == nil {
					c.proc.signal(syscall.SIGKILL)
				}
			}
		case c := <-exited:
			if w.containerExited(ctx, c) {
				// back-off for restarts (1 s doubling, capped at 60 s; kubelet starts at 10 s), none for init steps
				d := time.Duration(0)
				if c.restarts > 0 && c.terminated == nil {
					d = time.Second << min(int(c.restarts)-1, 6)
					d = min(d, 60*time.Second)
				}
				retry.Reset(d)
			}
		case <-statusRetry.C:
			if w.dirty {
				w.report(ctx)
			}
		case <-resync.C:
			if volumes != nil && !w.final {
				if _, err := w.m.vols.sync(ctx, pod, w.dir); err != nil {
					w.logf("volume resync: %v", err)
				}
			}
		case <-retry.C:
			if w.killing != nil || w.final {
				continue
			}
			if volumes == nil {
				v, err := w.m.vols.sync(ctx, pod, w.dir)
				if err != nil {
					w.logf("volumes: %v", err)
					w.event(ctx, corev1.EventTypeWarning, "FailedMount", err.Error(), "")
					retry.Reset(2 * time.Second)
					continue
				}
				volumes = v
			}
			if !w.initDone {
				// init containers one at a time, in order; the app containers wait (PodInitializing)
				var next *container
				for _, c := range w.inits {
					if c.terminated == nil {
						next = c
						break
					}
				}
				if next != nil {
					if next.proc == nil {
						if err := w.start(ctx, pod, next, volumes, exited); err != nil {
							retry.Reset(3 * time.Second)
						}
					}
					w.report(ctx)
					continue
				}
				w.initDone = true
				for _, c := range w.ctrs {
					if c.waiting != nil && c.waiting.Reason == "PodInitializing" {
						c.waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
					}
				}
			}
			pending := false
			for _, c := range w.ctrs {
				if c.proc == nil && c.terminated == nil {
					if err := w.start(ctx, pod, c, volumes, exited); err != nil {
						pending = true
					}
				}
			}
			w.report(ctx)
			if pending {
				retry.Reset(3 * time.Second)
			}
		}
	}
}

func (w *worker) beginKill(ctx context.Context, k killReq, killTimer *<-chan time.Time) {
	if w.killing != nil && k.grace >= w.killing.grace {
		return
	}
	w.killing = &k
	if k.reason != "" {
		w.reason, w.msg = k.reason, k.message
	}
	running := 0
	for _, c := range w.all() {
		if c.proc != nil && c.terminated == nil {
			running++
			if k.grace > 0 {
				w.event(ctx, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", c.spec.Name),
					"spec.containers{"+c.spec.Name+"}")
				c.proc.signal(syscall.SIGTERM)
			} else {
				c.proc.signal(syscall.SIGKILL)
			}
		}
	}
	if k.grace > 0 {
		*killTimer = time.After(time.Duration(k.grace) * time.Second)
	}
	if running == 0 {
		// never started: the containers end without running
		now := nowSec()
		for _, c := range w.all() {
			if c.terminated == nil {
				c.waiting = nil
				c.terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
					Message: "The container could not be located when the pod was terminated", FinishedAt: now}
			}
		}
		w.finish(ctx)
	}
}

// start resolves image, env and mounts, then starts the container's process.
func (w *worker) start(ctx context.Context, pod *corev1.Pod, c *container, volumes map[string]string, exited chan<- *container) error {
	field := "spec.containers{" + c.spec.Name + "}"
	img, err := lookupImage(w.m.c.imagesFile, w.m.c.repoRoot, c.spec.Image, c.spec.Command, c.spec.Args, c.spec.WorkingDir)
	if err != nil {
		if c.waiting == nil || c.waiting.Reason != "ErrImagePull" {
			w.event(ctx, corev1.EventTypeWarning, "Failed", "Failed to pull image \""+c.spec.Image+"\": "+err.Error(), field)
		}
		c.waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: err.Error()}
		return err
	}
	env, err := w.containerEnv(ctx, pod, c, img)
	if err != nil {
		if c.waiting == nil || c.waiting.Reason != "CreateContainerConfigError" {
			w.event(ctx, corev1.EventTypeWarning, "Failed", "Error: "+err.Error(), field)
		}
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	// the termination message file: empty for each run, world-writable like kubelet's
	if err := os.WriteFile(c.termPath, nil, 0o666); err != nil {
		return err
	}
	_ = os.Chmod(c.termPath, 0o666)
	spec := execSpec{Dir: img.dir, Argv: img.argv}
	tmp := c.spec.TerminationMessagePath
	if tmp == "" {
		tmp = "/dev/termination-log"
	}
	for _, vm := range c.spec.VolumeMounts {
		src, ok := volumes[vm.Name]
		if !ok {
			err := fmt.Errorf("volumeMount %q names no volume of the pod", vm.Name)
			c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
			return err
		}
		isFile := false
		if vm.SubPath != "" {
			src = filepath.Join(src, vm.SubPath)
			if st, err := os.Stat(src); err == nil && !st.IsDir() {
				isFile = true
			} else if err != nil {
				_ = os.MkdirAll(src, 0o777)
			}
		}
		spec.Mounts = append(spec.Mounts, mountSpec{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly, File: isFile})
	}
	// a private /tmp per pod, as a container has (shared by the pod's containers, like an emptyDir) -- unless
	// the image's own files live under /tmp (a repository cloned there, as CI may do): a private /tmp would
	// hide them, so such pods share the host's /tmp.
	if !underTmp(img.dir) && !underTmp(w.m.c.repoRoot) && (len(img.argv) == 0 || !underTmp(img.argv[0])) {
		podTmp := filepath.Join(w.dir, "tmp")
		if err := os.MkdirAll(podTmp, 0o777); err != nil {
			return err
		}
		_ = os.Chmod(podTmp, 0o1777)
		spec.Mounts = append(spec.Mounts, mountSpec{Source: podTmp, Target: "/tmp"})
	}
	sortMounts(spec.Mounts)
	spec.Mounts = append(spec.Mounts, mountSpec{Source: c.termPath, Target: tmp, File: true})
	specPath := filepath.Join(c.dir, "exec.json")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(specPath, b, 0o600); err != nil {
		return err
	}
	c.logPath = c.logFile(c.restarts)
	p, err := startProc(w.m.self, specPath, env, c.logPath, filepath.Join(c.dir, "pid"))
	if err != nil {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}
		w.event(ctx, corev1.EventTypeWarning, "Failed", "Error: "+err.Error(), field)
		return err
	}
	c.proc = p
	c.waiting = nil
	w.mu.Lock()
	c.shownLog, c.shownLW, c.shownRestarts = c.logPath, p.logs, c.restarts
	w.mu.Unlock()
	c.startedAt = metav1.NewTime(p.started.Truncate(time.Second))
	w.logf("container %s started: pid %d, %q in %s", c.spec.Name, p.pid, img.argv, img.dir)
	go func() { <-p.exited; exited <- c }()
	w.event(ctx, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.spec.Image), field)
	w.event(ctx, corev1.EventTypeNormal, "Created", "Created container: "+c.spec.Name, field)
	w.event(ctx, corev1.EventTypeNormal, "Started", "Started container "+c.spec.Name, field)
	return nil
}

// containerExited records a container's end; it returns true when the restart policy wants it started again.
func (w *worker) containerExited(ctx context.Context, c *container) bool {
	code := c.proc.exitCode()
	t := &corev1.ContainerStateTerminated{
		ExitCode:    int32(code),
		StartedAt:   c.startedAt,
		FinishedAt:  nowSec(),
		ContainerID: containerID(w.uid, c),
		Reason:      "Completed",
	}
	if code != 0 {
		t.Reason = "Error"
	}
	t.Message = terminationMessage(c, code)
	c.proc = nil
	w.logf("container %s exited %d", c.spec.Name, code)
	pol := w.latest().Spec.RestartPolicy
	if w.killing == nil && (pol == corev1.RestartPolicyAlways || (pol == corev1.RestartPolicyOnFailure && code != 0)) {
		c.lastTerm = t
		c.restarts++
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off restarting failed container %s", c.spec.Name)}
		w.report(ctx)
		return true // run() restarts it after a short back-off
	}
	if c.init && w.killing == nil {
		c.terminated = t
		if code == 0 {
			w.report(ctx)
			return true // next init container, or the app containers
		}
		// a failed init container with restartPolicy Never fails the pod; the app containers never start
		w.finish(ctx)
		return false
	}
	c.terminated = t
	for _, o := range w.all() {
		switch {
		case o.terminated != nil:
			continue
		case o.proc != nil: // still running
			w.report(ctx)
			return false
		case w.killing != nil: // never (re)started and now never will
			o.waiting = nil
			o.terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
				Message: "The container could not be located when the pod was terminated", FinishedAt: nowSec()}
		default: // still to start
			w.report(ctx)
			return false
		}
	}
	w.finish(ctx)
	return false
}

func containerID(uid types.UID, c *container) string {
	return fmt.Sprintf("krdc-process://%s-%s-%d", uid, c.spec.Name, c.restarts)
}

func terminationMessage(c *container, code int) string {
	msg := ""
	if f, err := os.Open(c.termPath); err == nil {
		b := make([]byte, maxTermMsg)
		n, _ := readFull(f, b)
		f.Close()
		msg = string(b[:n])
	}
	if msg == "" && code != 0 && c.spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
		msg = logTail(c.logPath, maxFallbackLines, maxFallbackBytes)
	}
	return msg
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// finish settles the pod's final phase (only once; a finished pod never goes back).
func (w *worker) finish(ctx context.Context) {
	if w.final {
		return
	}
	w.final = true
	defer close(w.finalCh)
	w.phase = corev1.PodSucceeded
	for _, c := range w.ctrs {
		if c.terminated == nil || c.terminated.ExitCode != 0 {
			w.phase = corev1.PodFailed
		}
	}
	if w.reason == "DeadlineExceeded" || w.reason == "NodeShutdown" {
		w.phase = corev1.PodFailed
	}
	w.report(ctx)
}

// containerEnv builds the process environment: host PATH/HOME, image ENV, service env, envFrom, env.
func (w *worker) containerEnv(ctx context.Context, pod *corev1.Pod, c *container, img *resolvedImage) ([]string, error) {
	// HOME: an empty directory of the pod's own, not the node's /root — a container never sees the node's home, and
	// a krdc in a pod must not find the host user's cached sessions there
	home := filepath.Join(w.dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	env := map[string]string{
		"PATH":     os.Getenv("PATH"),
		"HOME":     home,
		"HOSTNAME": pod.Name,
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for k, v := range img.env {
		env[k] = v
	}
	if w.m.c.apiPort != "" {
		env["KUBERNETES_SERVICE_HOST"] = w.m.c.apiHost
		env["KUBERNETES_SERVICE_PORT"] = w.m.c.apiPort
		env["KUBERNETES_SERVICE_PORT_HTTPS"] = w.m.c.apiPort
		env["KUBERNETES_PORT"] = "tcp://" + w.m.c.apiHost + ":" + w.m.c.apiPort
	}
	core := w.m.cs.CoreV1()
	for _, ef := range c.spec.EnvFrom {
		var data map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := core.ConfigMaps(pod.Namespace).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptr.Deref(ef.ConfigMapRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("configmap %q: %w", ef.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case ef.SecretRef != nil:
			s, err := core.Secrets(pod.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptr.Deref(ef.SecretRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("secret %q: %w", ef.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, b := range s.Data {
				data[k] = string(b)
			}
		}
		for k, v := range data {
			env[ef.Prefix+k] = v
		}
	}
	for _, e := range c.spec.Env {
		if e.ValueFrom == nil {
			env[e.Name] = expandVars(e.Value, env)
			continue
		}
		vf := e.ValueFrom
		switch {
		case vf.SecretKeyRef != nil:
			s, err := core.Secrets(pod.Namespace).Get(ctx, vf.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptr.Deref(vf.SecretKeyRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("secret %q: %w", vf.SecretKeyRef.Name, err)
			}
			b, ok := s.Data[vf.SecretKeyRef.Key]
			if !ok {
				if ptr.Deref(vf.SecretKeyRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in Secret %s/%s", vf.SecretKeyRef.Key, pod.Namespace, vf.SecretKeyRef.Name)
			}
			env[e.Name] = string(b)
		case vf.ConfigMapKeyRef != nil:
			cm, err := core.ConfigMaps(pod.Namespace).Get(ctx, vf.ConfigMapKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptr.Deref(vf.ConfigMapKeyRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("configmap %q: %w", vf.ConfigMapKeyRef.Name, err)
			}
			v, ok := cm.Data[vf.ConfigMapKeyRef.Key]
			if !ok {
				if ptr.Deref(vf.ConfigMapKeyRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", vf.ConfigMapKeyRef.Key, pod.Namespace, vf.ConfigMapKeyRef.Name)
			}
			env[e.Name] = v
		case vf.FieldRef != nil:
			v, err := fieldValue(pod, vf.FieldRef.FieldPath)
			if err != nil {
				return nil, err
			}
			env[e.Name] = v
		case vf.ResourceFieldRef != nil:
			env[e.Name] = "0"
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// expandVars does Kubernetes' $(VAR) expansion ($$ escapes; unknown references stay as written).
func expandVars(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			j := strings.IndexByte(s[i+2:], ')')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+j]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+j])
			}
			i += 2 + j
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// buildStatus renders the local state as a PodStatus, keeping conditions other components own.
func (w *worker) buildStatus(base corev1.PodStatus) corev1.PodStatus {
	now := nowSec()
	st := base
	st.Phase = corev1.PodPending
	st.HostIP = "127.0.0.1"
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	st.PodIP = "127.0.0.1"
	st.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	st.StartTime = &w.startTime
	st.ContainerStatuses = nil
	st.InitContainerStatuses = nil
	allRunning := true
	anyRunning := false
	for _, c := range w.all() {
		cs := corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: "krdc-process://" + c.spec.Image,
			RestartCount: c.restarts, Started: ptr.To(false),
		}
		if c.lastTerm != nil {
			cs.LastTerminationState.Terminated = c.lastTerm
		}
		switch {
		case c.terminated != nil:
			cs.State.Terminated = c.terminated
			cs.ContainerID = c.terminated.ContainerID
		case c.proc != nil:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: c.startedAt}
			cs.ContainerID = containerID(w.uid, c)
			cs.Ready, cs.Started = !c.init, ptr.To(true)
		default:
			cs.State.Waiting = c.waiting
			if cs.State.Waiting == nil {
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			}
		}
		if c.init {
			st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
			continue
		}
		if c.proc != nil {
			anyRunning = true
		} else {
			allRunning = false
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	switch {
	case w.final:
		st.Phase = w.phase
	case anyRunning:
		st.Phase = corev1.PodRunning
	}
	if w.reason != "" {
		st.Reason, st.Message = w.reason, w.msg
	}
	ready := corev1.ConditionFalse
	readyReason := "ContainersNotReady"
	if allRunning && !w.final {
		ready, readyReason = corev1.ConditionTrue, ""
	}
	if w.final {
		readyReason = "PodCompleted"
	}
	sandbox := corev1.ConditionTrue
	if w.final {
		sandbox = corev1.ConditionFalse
	}
	initialized := corev1.ConditionTrue
	if !w.initDone {
		initialized = corev1.ConditionFalse
	}
	mine := []corev1.PodCondition{
		{Type: corev1.PodReadyToStartContainers, Status: sandbox},
		{Type: corev1.PodInitialized, Status: initialized},
		{Type: corev1.PodReady, Status: ready, Reason: readyReason},
		{Type: corev1.ContainersReady, Status: ready, Reason: readyReason},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	var conds []corev1.PodCondition
	old := map[corev1.PodConditionType]corev1.PodCondition{}
	for _, c := range base.Conditions {
		old[c.Type] = c
	}
	for _, c := range mine {
		if o, ok := old[c.Type]; ok && o.Status == c.Status {
			c.LastTransitionTime = o.LastTransitionTime
		} else {
			c.LastTransitionTime = now
		}
		conds = append(conds, c)
		delete(old, c.Type)
	}
	for _, c := range base.Conditions {
		if _, ok := old[c.Type]; ok {
			conds = append(conds, c)
		}
	}
	st.Conditions = conds
	return st
}

func (w *worker) report(ctx context.Context) {
	base := w.latest().Status
	w.mu.Lock()
	if w.posted != nil && rvNewer(w.posted.ResourceVersion, w.pod.ResourceVersion) {
		base = w.posted.Status
	}
	w.mu.Unlock()
	st := w.buildStatus(base)
	if equality.Semantic.DeepEqual(st, base) {
		w.dirty = false
		return // nothing new: no write
	}
	if err := w.postStatus(ctx, st); err != nil {
		w.dirty = true
		if ctx.Err() == nil {
			w.logf("status: %v (will retry)", err)
		}
		return
	}
	w.dirty = false
}

// postStatus writes status; on conflict it refetches and retries. A pod the server already holds as finished
// is never moved back.
func (w *worker) postStatus(ctx context.Context, st corev1.PodStatus) error {
	pods := w.m.cs.CoreV1().Pods(w.ns)
	cur := w.latest().DeepCopy()
	w.mu.Lock()
	if w.posted != nil && rvNewer(w.posted.ResourceVersion, cur.ResourceVersion) {
		cur = w.posted.DeepCopy()
		latest := w.pod
		cur.DeletionTimestamp, cur.DeletionGracePeriodSeconds = latest.DeletionTimestamp, latest.DeletionGracePeriodSeconds
	}
	w.mu.Unlock()
	for attempt := 0; attempt < 10; attempt++ {
		if cur.Status.Phase == corev1.PodSucceeded || cur.Status.Phase == corev1.PodFailed {
			if st.Phase != cur.Status.Phase {
				return nil
			}
		}
		if w.m != nil && w.ctrs != nil {
			st = w.buildStatus(cur.Status)
		}
		cur.Status = st
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		upd, err := pods.UpdateStatus(c, cur, metav1.UpdateOptions{})
		cancel()
		if err == nil {
			w.mu.Lock()
			w.posted = upd
			w.mu.Unlock()
			return nil
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			if ctx.Err() != nil || attempt > 3 {
				return err
			}
			time.Sleep(500 * time.Millisecond)
		}
		c, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		fresh, gerr := pods.Get(c, w.name, metav1.GetOptions{})
		cancel()
		if gerr != nil {
			if apierrors.IsNotFound(gerr) {
				return nil
			}
			return gerr
		}
		if fresh.UID != w.uid {
			return nil
		}
		cur = fresh
	}
	return fmt.Errorf("status update kept conflicting")
}

// nowSec is metav1.Now() at the API's one-second precision, so a status we compute compares equal to what
// the server stored and unchanged statuses are not written again.
func nowSec() metav1.Time { return metav1.NewTime(time.Now().Truncate(time.Second)) }

// underTmp says whether an absolute path is /tmp or inside it.
func underTmp(p string) bool {
	c := filepath.Clean(p)
	return c == "/tmp" || strings.HasPrefix(c, "/tmp/")
}
