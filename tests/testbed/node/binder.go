package main

import (
	"context"
	"fmt"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// runBinder plays the scheduler for a one-node cluster: every pending pod without a nodeName that asks
// for the default scheduler is bound to this node through the pods/binding subresource, as
// kube-scheduler would, with a "Scheduled" event.
func runBinder(ctx context.Context, cs kubernetes.Interface, nodeName string) {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.AndSelectors(
			fields.OneTermEqualSelector("spec.nodeName", ""),
			fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
			fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
		).String()
	}))
	inf := f.Core().V1().Pods().Informer()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	enqueue := func(obj interface{}) {
		if k, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			q.Add(k)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, o interface{}) { enqueue(o) }})
	f.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
	go func() { <-ctx.Done(); q.ShutDown() }()
	for {
		k, quit := q.Get()
		if quit {
			return
		}
		err := bindOne(ctx, cs, inf.GetIndexer(), k, nodeName)
		if err != nil && ctx.Err() == nil {
			log.Printf("bind %s: %v (will retry)", k, err)
			q.AddRateLimited(k)
		} else {
			q.Forget(k)
		}
		q.Done(k)
	}
}

func bindOne(ctx context.Context, cs kubernetes.Interface, idx cache.Indexer, key, nodeName string) error {
	obj, ok, err := idx.GetByKey(key)
	if err != nil || !ok {
		return err
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return nil
	}
	if s := pod.Spec.SchedulerName; s != "" && s != corev1.DefaultSchedulerName {
		return nil
	}
	if len(pod.Spec.SchedulingGates) > 0 {
		return nil
	}
	// nodeSelector is honoured (node affinity is not): a pod that asks for another node stays Pending, as it
	// would with kube-scheduler and no matching node
	for k, v := range pod.Spec.NodeSelector {
		if nodeLabels(nodeName)[k] != v {
			return nil
		}
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	err = cs.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // deleted or already bound
	}
	if err != nil {
		return err
	}
	emitEvent(ctx, cs, pod, corev1.EventTypeNormal, "Scheduled",
		fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, nodeName), "default-scheduler", "")
	return nil
}

// emitEvent posts a core/v1 Event about a pod (best effort; kubectl describe shows them).
func emitEvent(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, typ, reason, msg, component, fieldPath string) {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			ResourceVersion: pod.ResourceVersion, FieldPath: fieldPath,
		},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: component, Host: pod.Spec.NodeName},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: component, ReportingInstance: component,
	}
	if component == "default-scheduler" {
		ev.Source.Host = ""
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Events(pod.Namespace).Create(c, ev, metav1.CreateOptions{}); err != nil && ctx.Err() == nil {
		log.Printf("event %s/%s %s: %v", pod.Namespace, pod.Name, reason, err)
	}
}
