// Command krdc-node is the krdc testbed's "process node": it plays kubelet for one Kubernetes control
// plane without containers. It registers a Node, keeps its Lease fresh, binds pending pods to itself,
// runs each container's command+args as a host process (in a private mount namespace so Secret,
// ConfigMap, emptyDir, projected volumes and the termination message file appear at the paths the pod
// spec names), reports real pod status and serves container logs to the API server.
//
// It is test infrastructure, not part of the krdc product.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type config struct {
	kubeconfig  string
	nodeName    string
	port        int
	tlsCert     string
	tlsKey      string
	clientCA    string
	stateDir    string
	imagesFile  string
	repoRoot    string
	apiHost     string
	apiPort     string
	kubeVersion string
	bind        bool
}

func main() {
	// Re-exec'd inside the pod's fresh mount namespace: set up mounts, then exec the app.
	if len(os.Args) > 1 && os.Args[1] == execPodCmd {
		execPod(os.Args[2:])
		return
	}

	var c config
	flag.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig with rights to manage nodes, leases, pods, bindings, events, secrets, configmaps, serviceaccounts/token")
	flag.StringVar(&c.nodeName, "node-name", "", "Node name to register")
	flag.IntVar(&c.port, "port", 10250, "HTTPS port for /containerLogs (127.0.0.1 only)")
	flag.StringVar(&c.tlsCert, "tls-cert-file", "", "serving certificate")
	flag.StringVar(&c.tlsKey, "tls-private-key-file", "", "serving key")
	flag.StringVar(&c.clientCA, "client-ca-file", "", "if set, clients (the API server) must present a certificate signed by this CA")
	flag.StringVar(&c.stateDir, "root-dir", "", "directory for pod sandboxes and logs")
	flag.StringVar(&c.imagesFile, "images", "", "image table (tests/testbed/images.yaml)")
	flag.StringVar(&c.repoRoot, "repo-root", "", "base for relative paths in the image table")
	flag.StringVar(&c.apiHost, "service-host", "127.0.0.1", "KUBERNETES_SERVICE_HOST given to pods")
	flag.StringVar(&c.apiPort, "service-port", "", "KUBERNETES_SERVICE_PORT given to pods")
	flag.StringVar(&c.kubeVersion, "kubelet-version", "v1.34.4", "version reported in nodeInfo")
	flag.BoolVar(&c.bind, "bind-pending-pods", true, "bind pods with no nodeName (and the default scheduler) to this node")
	flag.Parse()
	if c.kubeconfig == "" || c.nodeName == "" || c.stateDir == "" || c.imagesFile == "" || c.tlsCert == "" || c.tlsKey == "" {
		fmt.Fprintln(os.Stderr, "krdc-node: --kubeconfig, --node-name, --root-dir, --images, --tls-cert-file, --tls-private-key-file are required")
		os.Exit(2)
	}
	if c.repoRoot == "" {
		c.repoRoot = filepath.Dir(filepath.Dir(filepath.Dir(c.imagesFile))) // tests/testbed/images.yaml
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	rc, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	// One agent stands in for a cluster's whole fleet of kubelets (each has 50 QPS of its own), and a pod
	// costs it ~11 requests (bind, status, events, token, configmap, delete): 50 QPS capped the testbed at
	// ~4.5 pod starts a second, which the benchmarks measured instead of the client under test.
	rc.QPS, rc.Burst = 1000, 2000
	rc.UserAgent = "krdc-node/" + c.kubeVersion
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(c.stateDir, "pods"), 0o700); err != nil {
		log.Fatal(err)
	}
	if err := ensureTerminationPlaceholder("/dev/termination-log"); err != nil {
		log.Fatalf("termination-log placeholder: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	n := newNode(c, cs)
	if err := n.register(ctx); err != nil {
		log.Fatalf("register node: %v", err)
	}
	go n.heartbeat(ctx)

	m := newManager(c, cs)
	go func() {
		if err := serveLogs(c, m); err != nil {
			log.Fatalf("log server: %v", err)
		}
	}()
	go m.run(ctx)
	if c.bind {
		go runBinder(ctx, cs, c.nodeName)
	}
	log.Printf("node %s ready (logs on https://127.0.0.1:%d)", c.nodeName, c.port)

	s := <-sig
	log.Printf("%v: stopping; running pods are killed and reported failed", s)
	m.shutdown()
	cancel()
}
