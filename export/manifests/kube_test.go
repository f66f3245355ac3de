package manifests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nookenv/nook/export/workload"
)

// decodeStrict decodes every document of a manifest file into its
// k8s.io/api type, refusing unknown fields.
func decodeStrict(t *testing.T, b []byte) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	for _, doc := range strings.Split(string(b), "\n---\n")[1:] {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		var obj any
		switch tm.Kind {
		case "Pod":
			obj = &corev1.Pod{}
		case "Service":
			obj = &corev1.Service{}
		case "PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "Job":
			obj = &batchv1.Job{}
		default:
			t.Fatalf("unexpected kind %q in:\n%s", tm.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("decoding %s strictly: %v\n%s", tm.Kind, err, doc)
		}
		out[tm.Kind] = append(out[tm.Kind], obj)
	}
	return out
}

func TestKubernetesPod(t *testing.T) {
	b, warnings, err := Kubernetes(shopWorkload(), workload.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "shop.k8s.yaml", b)
	objs := decodeStrict(t, b)
	if len(objs["Pod"]) != 1 || len(objs["Service"]) != 1 || len(objs["PersistentVolumeClaim"]) != 2 || len(objs["Job"]) != 1 {
		t.Fatalf("want 1 Pod, 1 Service, 2 claims, 1 Job; got %v", objs)
	}
	pod := objs["Pod"][0].(*corev1.Pod)
	spec := pod.Spec

	// Start order: build (init), db (a sidecar: migrate, an init
	// container, needs it up), migrate (init), then web.
	var inits []string
	for _, c := range spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if !slices.Equal(inits, []string{"build", "db", "migrate"}) {
		t.Errorf("init containers %v, want build, db (sidecar), migrate", inits)
	}
	db := spec.InitContainers[1]
	if db.RestartPolicy == nil || *db.RestartPolicy != corev1.ContainerRestartPolicyAlways || db.StartupProbe == nil ||
		db.StartupProbe.TCPSocket.Port.IntValue() != 5432 {
		t.Errorf("db is not a sidecar started by its ready port: %+v", db)
	}
	if db.Image != "docker.io/library/postgres:16" || db.Command != nil {
		t.Errorf("db runs %s %v, want its own image and entrypoint", db.Image, db.Command)
	}
	if db.SecurityContext != nil || db.WorkingDir != "" {
		t.Errorf("db must run as its image's user in its image's workdir, as nook runs a role on its own image: %+v, workdir %q", db.SecurityContext, db.WorkingDir)
	}
	if len(spec.Containers) != 1 || spec.Containers[0].Name != "web" {
		t.Fatalf("containers %+v, want web", spec.Containers)
	}
	web := spec.Containers[0]
	if web.ReadinessProbe == nil || web.ReadinessProbe.TCPSocket.Port.IntValue() != 8080 {
		t.Errorf("web's readiness probe: %+v", web.ReadinessProbe)
	}
	if len(web.Ports) != 2 || web.Ports[0].HostPort != 8080 || web.Ports[1].Protocol != corev1.ProtocolUDP || web.Ports[1].HostIP != "127.0.0.1" {
		t.Errorf("web's ports: %+v", web.Ports)
	}
	if web.Env != nil {
		t.Errorf("web sees its image's env as nook gives it; got extra env %+v", web.Env)
	}
	if got := web.Resources.Limits.Memory().String(); got != "512Mi" {
		t.Errorf("web's memory limit %s, want 512Mi", got)
	}
	if got := web.Resources.Limits.Cpu().String(); got != "1500m" {
		t.Errorf("web's cpu limit %s, want 1500m", got)
	}
	migrate := spec.InitContainers[2]
	// PORT is web's own: the shared image's config has it, migrate
	// must not see it.
	if !slices.Contains(migrate.Env, corev1.EnvVar{Name: "PORT", Value: ""}) {
		t.Errorf("migrate's env %+v: want PORT emptied", migrate.Env)
	}
	// db, a sidecar, restarts always whatever the pod's policy; web's
	// on-failure is the pod's.
	if spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restart policy %s, want OnFailure (web's)", spec.RestartPolicy)
	}
	if spec.Hostname != "shop" || len(spec.HostAliases) != 1 || !slices.Contains(spec.HostAliases[0].Hostnames, "db") {
		t.Errorf("hostname %q, aliases %+v: every role name must resolve in the pod", spec.Hostname, spec.HostAliases)
	}
	var claims, empty []string
	for _, v := range spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			claims = append(claims, v.PersistentVolumeClaim.ClaimName)
		case v.EmptyDir != nil:
			empty = append(empty, v.Name)
		}
	}
	if !slices.Equal(claims, []string{"shop-gocache", "shop-pgdata"}) || len(empty) != 1 {
		t.Errorf("volumes: claims %v, emptyDirs %v", claims, empty)
	}
	svc := objs["Service"][0].(*corev1.Service)
	if len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].Port != 8080 || svc.Spec.Selector["app.kubernetes.io/name"] != "shop" {
		t.Errorf("service: %+v", svc.Spec)
	}

	job := objs["Job"][0].(*batchv1.Job)
	js := job.Spec.Template.Spec
	if len(js.Containers) != 1 || js.Containers[0].Name != "test" || js.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("job's pod: %+v", js)
	}
	var jobInits []string
	for _, c := range js.InitContainers {
		jobInits = append(jobInits, c.Name)
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				t.Errorf("the job's %s publishes host port %d, which the main pod holds", c.Name, p.HostPort)
			}
		}
	}
	if !slices.Equal(jobInits, []string{"build", "db", "migrate", "web"}) {
		t.Errorf("job's init containers %v, want test's dependencies in order", jobInits)
	}
	if web := js.InitContainers[3]; web.RestartPolicy == nil || web.StartupProbe == nil {
		t.Errorf("the job's web must be a sidecar that test waits for: %+v", web)
	}
	if !js.Containers[0].TTY {
		t.Errorf("test has tty = true")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "/data") {
		t.Errorf("warnings %q: want the bind mount's", warnings)
	}
}

func TestKubernetesDeployment(t *testing.T) {
	b, _, err := Kubernetes(shopWorkload(), workload.KindDeployment)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeStrict(t, b)
	if len(objs["Deployment"]) != 1 || len(objs["Pod"]) != 0 {
		t.Fatalf("want one Deployment and no Pod: %v", objs)
	}
	d := objs["Deployment"][0].(*appsv1.Deployment)
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType ||
		d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways ||
		d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != d.Spec.Template.Labels["app.kubernetes.io/name"] {
		t.Errorf("deployment: %+v", d.Spec)
	}
}

func TestKubernetesRefusesAnUnknownKind(t *testing.T) {
	if _, _, err := Kubernetes(shopWorkload(), "daemonset"); err == nil {
		t.Fatal("no error for --k8s-kind daemonset")
	}
}
