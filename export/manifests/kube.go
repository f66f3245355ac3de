package manifests

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/export/workload"
)

// volumeSize is what a PersistentVolumeClaim of a named volume asks for:
// nook's volumes have no size, a claim must have one.
const volumeSize = "1Gi"

// Kubernetes writes the workload as Kubernetes manifests: the roles of Up
// as one Pod (or a Deployment of one replica) whose containers share its
// network as nook's pod does, one-shot roles as init containers in start
// order (and a long-running role that one of those depends on as a native
// sidecar, started before it and checked by its ready port), ready.port as
// a readinessProbe, restart as the pod's restart policy, ports as
// containerPort and hostPort plus a Service, named volumes as
// PersistentVolumeClaims, bind mounts of host paths as emptyDir volumes
// (a cluster has no such paths); each role of Jobs as a Job whose pod
// starts what the role depends on first, as `nook run ROLE` does. It
// returns the YAML and what did not carry over.
func Kubernetes(w *Workload, kind string) ([]byte, []string, error) {
	k := kubeMapper{w: w, app: workload.DNSLabel(w.Env.Project)}
	var docs []any
	for _, v := range k.volumeNames(append(append([]string{}, w.Up...), w.Jobs...)) {
		docs = append(docs, k.claim(v))
	}
	if len(w.Up) > 0 {
		spec := k.podSpec(w.Up, "")
		labels := map[string]string{"app.kubernetes.io/name": k.app}
		meta := metav1.ObjectMeta{Name: k.app, Labels: labels}
		switch kind {
		case workload.KindPod, "":
			docs = append(docs, &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: meta, Spec: spec})
		case workload.KindDeployment:
			if spec.RestartPolicy != corev1.RestartPolicyAlways {
				k.warn(fmt.Sprintf("a Deployment always restarts its pod: restart = %q does not carry over", w.Role(lastLong(w)).Restart))
			}
			spec.RestartPolicy = corev1.RestartPolicyAlways
			one := int32(1)
			docs = append(docs, &appsv1.Deployment{
				TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
				ObjectMeta: meta,
				Spec: appsv1.DeploymentSpec{
					Replicas: &one,
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					// Host ports and volumes bound once: the old pod goes first.
					Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
				},
			})
		default:
			return nil, nil, fmt.Errorf("--k8s-kind %q: want %s or %s", kind, workload.KindPod, workload.KindDeployment)
		}
		if svc := k.service(w.Up, labels); svc != nil {
			docs = append(docs, svc)
		}
	}
	for _, n := range w.Jobs {
		docs = append(docs, k.job(n))
	}
	var out bytes.Buffer
	out.WriteString(fileHeader(w.Env, "Apply with `kubectl apply -f FILE`, or run it here with `podman kube play FILE`."))
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			return nil, nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes(), k.warnings, nil
}

type kubeMapper struct {
	w        *Workload
	app      string
	warnings []string
}

func (k *kubeMapper) warn(s string) {
	for _, w := range k.warnings {
		if w == s {
			return
		}
	}
	k.warnings = append(k.warnings, s)
}

// lastLong is the last long-running role of Up.
func lastLong(w *Workload) string {
	for i := len(w.Up) - 1; i >= 0; i-- {
		if w.Role(w.Up[i]).LongRunning() {
			return w.Up[i]
		}
	}
	return w.Up[len(w.Up)-1]
}

// podSpec is the pod of roles, in start order; job, when set, is the one
// role of roles that runs to completion as the pod's main container.
func (k *kubeMapper) podSpec(roles []string, job string) corev1.PodSpec {
	e := k.w.Env
	spec := corev1.PodSpec{Hostname: workload.DNSLabel(e.Hostname)}
	if names := hostNames(e); len(names) > 0 {
		spec.HostAliases = []corev1.HostAlias{{IP: "127.0.0.1", Hostnames: names}}
	}
	// A long-running role that a one-shot role depends on must be up
	// before it: a native sidecar (an init container that keeps running).
	sidecar := map[string]bool{}
	for _, n := range roles {
		if k.w.Role(n).LongRunning() && n != job {
			continue
		}
		for _, d := range k.w.Dependencies(n) {
			if k.w.Role(d).LongRunning() {
				sidecar[d] = true
			}
		}
	}
	restart := corev1.RestartPolicyNever
	for _, n := range roles {
		r := k.w.Role(n)
		c := k.container(r)
		if job != "" {
			for i := range c.Ports { // the Job's pod runs beside the main one
				c.Ports[i].HostPort, c.Ports[i].HostIP = 0, ""
			}
		}
		switch {
		case n == job:
			spec.Containers = append(spec.Containers, c)
		case sidecar[n]:
			always := corev1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
			c.StartupProbe, c.ReadinessProbe = c.ReadinessProbe, nil
			spec.InitContainers = append(spec.InitContainers, c)
		case !r.LongRunning():
			spec.InitContainers = append(spec.InitContainers, c)
		default:
			spec.Containers = append(spec.Containers, c)
			switch r.Restart {
			case env.RestartAlways:
				restart = corev1.RestartPolicyAlways
			case env.RestartOnFailure:
				if restart != corev1.RestartPolicyAlways {
					restart = corev1.RestartPolicyOnFailure
				}
			}
		}
		if r.Network != env.NetworkPrivate {
			k.warn(fmt.Sprintf("role %s: network = %q does not carry over: it shares the pod's network", n, r.Network))
		}
	}
	if job != "" {
		restart = corev1.RestartPolicyNever
	}
	spec.RestartPolicy = restart
	spec.Volumes = k.podVolumes(roles)
	return spec
}

// container is role r as a container.
func (k *kubeMapper) container(r *env.Role) corev1.Container {
	img := k.w.Images[r.Name]
	c := corev1.Container{Name: workload.DNSLabel(r.Name), Image: img.Name}
	if r.Own == nil {
		c.WorkingDir = r.Workdir // a role on its own image has its workdir in the image
	}
	c.Command = roleCommand(r)
	if w := hostUserWarning(r); w != "" {
		k.warn(w)
	}
	for _, kv := range envDelta(img, r) {
		c.Env = append(c.Env, corev1.EnvVar{Name: kv[0], Value: kv[1]})
	}
	for _, p := range r.Ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(p.RolePort), HostPort: int32(p.HostPort),
			HostIP: p.HostIP, Protocol: protocol(p.Proto)})
	}
	if r.Ready != nil {
		c.ReadinessProbe = &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(r.Ready.Port))}},
			PeriodSeconds:    1,
			FailureThreshold: 3,
		}
	}
	if r.Tty != nil && *r.Tty {
		c.TTY, c.Stdin = true, true
	}
	if user := roleUser(r, img); user != imageUser(img) {
		if uid, gid, ok := numericUser(user); ok {
			c.SecurityContext = &corev1.SecurityContext{RunAsUser: &uid, RunAsGroup: gid}
		} else {
			k.warn(fmt.Sprintf("role %s: user %q: Kubernetes takes numeric ids only; export that role with --role to make it the image's user", r.Name, r.User))
		}
	}
	lim := corev1.ResourceList{}
	if r.Limits.Memory > 0 {
		lim[corev1.ResourceMemory] = *resource.NewQuantity(r.Limits.Memory, resource.BinarySI)
	}
	if r.Limits.CPUs > 0 {
		lim[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(r.Limits.CPUs*1000), resource.DecimalSI)
	}
	if len(lim) > 0 {
		c.Resources.Limits = lim
	}
	if r.Limits.Pids > 0 {
		k.warn(fmt.Sprintf("role %s: limits.pids has no per-container setting in Kubernetes (the kubelet's podPidsLimit)", r.Name))
	}
	for _, v := range r.Volumes {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: k.volumeName(v.Name), MountPath: v.Target, ReadOnly: v.ReadOnly})
	}
	for _, m := range r.Mounts {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: k.mountName(m), MountPath: m.Target, ReadOnly: m.ReadOnly})
		k.warn(fmt.Sprintf("bind mount %s:%s is an empty directory in Kubernetes: a cluster has no such host path", m.Source, m.Target))
	}
	return c
}

// numericUser parses "UID[:GID]".
func numericUser(u string) (int64, *int64, bool) {
	us, gs, hasGroup := strings.Cut(u, ":")
	uid, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	if !hasGroup {
		return uid, nil, true
	}
	gid, err := strconv.ParseInt(gs, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return uid, &gid, true
}

func protocol(p string) corev1.Protocol {
	if p == "udp" {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// volumeNames are the named volumes the roles use, each once, in order.
func (k *kubeMapper) volumeNames(roles []string) []string {
	var out []string
	for _, n := range roles {
		for _, v := range k.w.Role(n).Volumes {
			if !slices.Contains(out, v.Name) {
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// volumeName is the pod's name for named volume v, and its claim's.
func (k *kubeMapper) volumeName(v string) string { return workload.DNSLabel(k.app + "-" + v) }

// mountName is the pod's name for the emptyDir standing for bind mount m.
func (k *kubeMapper) mountName(m env.Mount) string { return workload.DNSLabel("mount-" + m.Target) }

// podVolumes are the volumes of the roles' containers.
func (k *kubeMapper) podVolumes(roles []string) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range k.volumeNames(roles) {
		out = append(out, corev1.Volume{Name: k.volumeName(v), VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: k.volumeName(v)}}})
	}
	var mounts []string
	for _, n := range roles {
		for _, m := range k.w.Role(n).Mounts {
			if name := k.mountName(m); !slices.Contains(mounts, name) {
				mounts = append(mounts, name)
				out = append(out, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			}
		}
	}
	return out
}

// claim is the PersistentVolumeClaim of named volume v.
func (k *kubeMapper) claim(v string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: k.volumeName(v), Labels: map[string]string{"app.kubernetes.io/name": k.app}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(volumeSize)}},
		},
	}
}

// service publishes the roles' ports inside the cluster under the
// project's name, each on its host port as nook publishes it.
func (k *kubeMapper) service(roles []string, labels map[string]string) *corev1.Service {
	var ports []corev1.ServicePort
	for _, n := range roles {
		for _, p := range k.w.Role(n).Ports {
			ports = append(ports, corev1.ServicePort{
				Name:       fmt.Sprintf("%s-%d", p.Proto, p.HostPort),
				Protocol:   protocol(p.Proto),
				Port:       int32(p.HostPort),
				TargetPort: intstr.FromInt32(int32(p.RolePort)),
			})
		}
	}
	if len(ports) == 0 {
		return nil
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: k.app, Labels: labels},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: ports},
	}
}

// job is one-shot role n as a Job: its pod starts n's dependencies first
// (one-shot ones as init containers, long-running ones as sidecars) and
// ends when n does.
func (k *kubeMapper) job(n string) *batchv1.Job {
	roles := append(k.w.Dependencies(n), n)
	spec := k.podSpec(roles, n)
	spec.Hostname = "" // one pod per run
	zero := int32(0)
	labels := map[string]string{"app.kubernetes.io/name": k.app, "app.kubernetes.io/component": workload.DNSLabel(n)}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: workload.DNSLabel(k.app + "-" + n), Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit: &zero,
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}
