package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const (
	leaseDuration   = 40 // seconds, as kubelet
	leaseRenewEvery = 10 * time.Second
	statusEvery     = 60 * time.Second
)

type node struct {
	c  config
	cs kubernetes.Interface
}

func newNode(c config, cs kubernetes.Interface) *node { return &node{c: c, cs: cs} }

func memTotal() resource.Quantity {
	f, err := os.Open("/proc/meminfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) >= 2 && fs[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fs[1], 10, 64); err == nil {
					return *resource.NewQuantity(kb*1024, resource.BinarySI)
				}
			}
		}
	}
	return resource.MustParse("8Gi")
}

func (n *node) desiredStatus(now metav1.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           memTotal(),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "krdc process node is posting ready status"),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "krdc process node has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "krdc process node has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "krdc process node has sufficient PID available"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: n.c.nodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.c.port)}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               "krdc-" + n.c.nodeName,
			SystemUUID:              "krdc-" + n.c.nodeName,
			BootID:                  bootID(),
			KernelVersion:           kernelVersion(),
			OSImage:                 "krdc process node",
			ContainerRuntimeVersion: "krdc-process://0.1",
			KubeletVersion:          n.c.kubeVersion,
			KubeProxyVersion:        "",
			OperatingSystem:         "linux",
			Architecture:            runtime.GOARCH,
		},
	}
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

func kernelVersion() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// register creates the Node (or takes over an existing one) and posts a Ready status.
func (n *node) register(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := n.registerOnce(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		log.Printf("register: %v (retrying)", err)
		time.Sleep(time.Second)
	}
}

func (n *node) registerOnce(ctx context.Context) error {
	nodes := n.cs.CoreV1().Nodes()
	want := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.c.nodeName,
			Labels: nodeLabels(n.c.nodeName),
		},
	}
	cur, err := nodes.Get(ctx, n.c.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cur, err = nodes.Create(ctx, want, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	cur.Status = n.desiredStatus(metav1.Now())
	if _, err := nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	return n.renewLease(ctx, cur)
}

func (n *node) renewLease(ctx context.Context, nd *corev1.Node) error {
	leases := n.cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, n.c.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.c.nodeName, Namespace: corev1.NamespaceNodeLease},
			Spec: coordv1.LeaseSpec{
				HolderIdentity:       ptr.To(n.c.nodeName),
				LeaseDurationSeconds: ptr.To(int32(leaseDuration)),
				RenewTime:            &now,
			},
		}
		if nd != nil {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: nd.Name, UID: nd.UID}}
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity = ptr.To(n.c.nodeName)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(leaseDuration))
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeat renews the Lease every 10 s and re-posts node status every minute (kubelet's defaults).
func (n *node) heartbeat(ctx context.Context) {
	lt := time.NewTicker(leaseRenewEvery)
	st := time.NewTicker(statusEvery)
	defer lt.Stop()
	defer st.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lt.C:
			if err := n.renewLease(ctx, nil); err != nil && ctx.Err() == nil {
				log.Printf("lease: %v", err)
			}
		case <-st.C:
			if err := n.registerOnce(ctx); err != nil && ctx.Err() == nil {
				log.Printf("node status: %v", err)
			}
		}
	}
}

// nodeLabels are the labels the Node is registered with (the binder matches nodeSelectors against them).
func nodeLabels(name string) map[string]string {
	return map[string]string{
		"kubernetes.io/hostname":  name,
		"kubernetes.io/os":        "linux",
		"kubernetes.io/arch":      runtime.GOARCH,
		"krdc.example/node-agent": "process",
	}
}
