package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
)

// Options say what nook export writes.
type Options struct {
	Role      string // the role whose command the image runs; "": the first long-running role
	NoProject bool   // leave the project's files out of the image

	OCI           string // an OCI image layout directory to write the image to
	DockerArchive string // a docker archive file to write the image to
	Push          string // a registry reference to push the image to
	Tag           string // the image's name when not pushed; "": nook.local/PROJECT:ID12

	K8s     string // a file to write Kubernetes manifests to
	K8sKind string // KindPod (default) or KindDeployment
	Compose string // a file to write a Compose file to

	// Say receives progress lines; PushProgress, when set, the bytes of a
	// push done of the total.
	Say          func(string)
	PushProgress func(done, total int64)
}

// Result is what an export wrote.
type Result struct {
	Images   []Written // the images, the exported role's first
	Files    []Output  // the files and the registry written, in order
	Warnings []string  // what did not carry over
}

// Written is one exported image.
type Written struct {
	Name    string // its reference
	Digest  string // its manifest digest; "" when only a docker archive was written
	ID      string // its config digest (podman's and docker's image ID)
	Command string // the role whose command it runs
}

// Output is a file or registry an export wrote.
type Output struct {
	Kind string // "oci", "docker-archive", "push", "k8s" or "compose"
	Path string // the file, directory or reference
}

// Export exports the project: the environment of the exported role as an
// image (and each other environment a role of the manifests runs in as an
// image of its own), built first when it is missing, then the manifests.
func Export(ctx context.Context, p *project.Project, o Options) (*Result, error) {
	if o.OCI == "" && o.DockerArchive == "" && o.Push == "" && o.K8s == "" && o.Compose == "" {
		return nil, usageError{msg: "nothing to export", hint: "name a destination: --oci DIR, --docker-archive FILE, --push REF, --k8s FILE or --compose FILE"}
	}
	if o.K8sKind != "" && o.K8sKind != KindPod && o.K8sKind != KindDeployment {
		return nil, usageError{msg: fmt.Sprintf("--k8s-kind %q: want %s or %s", o.K8sKind, KindPod, KindDeployment)}
	}
	if o.Tag != "" && o.Push != "" {
		return nil, usageError{msg: "--tag and --push both name the image", hint: "the pushed image is named by --push REF"}
	}
	for flag, v := range map[string]string{"--tag": o.Tag, "--push": o.Push} {
		if _, err := name.NewTag(v); v != "" && err != nil {
			return nil, usageError{msg: fmt.Sprintf("%s %s: %v", flag, v, err), hint: "name the image as REGISTRY/REPOSITORY:TAG"}
		}
	}
	say := o.Say
	if say == nil {
		say = func(string) {}
	}
	e := p.Env
	main, err := exportedRole(p, o.Role)
	if err != nil {
		return nil, err
	}
	w := &Workload{Env: e, Images: map[string]RoleImage{}}
	if up, err := p.UpRoles(nil); err == nil {
		w.Up = up
	}
	for _, n := range e.RoleNames() {
		if !slices.Contains(w.Up, n) && !e.Roles[n].LongRunning() {
			w.Jobs = append(w.Jobs, n)
		}
	}
	pull, err := project.PullOptions()
	if err != nil {
		return nil, err
	}
	created, err := Created(os.Getenv)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	x := &exporter{p: p, o: o, say: say, pull: pull, res: res, created: created, git: readGit(e.ProjectDir)}

	// One image per environment, the exported role's first.
	groups := []string{p.EnvironmentKey(main)}
	members := map[string][]string{}
	for _, n := range append([]string{main.Name}, append(slices.Clone(w.Up), w.Jobs...)...) {
		k := p.EnvironmentKey(e.Roles[n])
		if !slices.Contains(groups, k) {
			groups = append(groups, k)
		}
		if !slices.Contains(members[k], n) {
			members[k] = append(members[k], n)
		}
	}
	// Every environment is built (and locked) before any image is made:
	// nook.lock is one of the project's files in each image.
	for _, k := range groups {
		if _, err := p.Environment(ctx, e.Roles[members[k][0]]); err != nil {
			return nil, err
		}
	}
	for i, k := range groups {
		cmdRole := main
		if i > 0 {
			cmdRole = e.Roles[members[k][0]]
			for _, n := range members[k] {
				if e.Roles[n].LongRunning() {
					cmdRole = e.Roles[n]
					break
				}
			}
		}
		ri, err := x.exportEnvironment(ctx, cmdRole, k, i == 0)
		if err != nil {
			return nil, err
		}
		for _, n := range members[k] {
			w.Images[n] = ri
		}
	}
	if o.K8s != "" {
		b, warn, err := Kubernetes(w, o.K8sKind)
		if err != nil {
			return nil, err
		}
		if err := writeFile(o.K8s, b); err != nil {
			return nil, err
		}
		res.Warnings = append(res.Warnings, warn...)
		res.Files = append(res.Files, Output{Kind: "k8s", Path: o.K8s})
	}
	if o.Compose != "" {
		abs, err := filepath.Abs(o.Compose)
		if err != nil {
			return nil, err
		}
		b, warn, err := Compose(w, abs)
		if err != nil {
			return nil, err
		}
		if err := writeFile(o.Compose, b); err != nil {
			return nil, err
		}
		res.Warnings = append(res.Warnings, warn...)
		res.Files = append(res.Files, Output{Kind: "compose", Path: o.Compose})
	}
	return res, nil
}

// exporter exports the environments of one project.
type exporter struct {
	p       *project.Project
	o       Options
	say     func(string)
	pull    layers.PullOptions
	res     *Result
	created time.Time
	git     gitInfo
}

// exportEnvironment exports the environment role runs in as an image that
// runs role's command; first says whether it is the exported role's, which
// goes to every destination and takes the name given (the others take it
// with "-KEY" after the repository).
func (x *exporter) exportEnvironment(ctx context.Context, role *env.Role, key string, first bool) (RoleImage, error) {
	e := x.p.Env
	en, err := x.p.Environment(ctx, role)
	if err != nil {
		return RoleImage{}, err
	}
	ann := annotationsFor(e, en.Snapshot, x.created, x.git)
	cfg, err := imageConfig(e, role, en.Snapshot, x.created, ann)
	if err != nil {
		return RoleImage{}, err
	}
	var files *projectFiles
	if !x.o.NoProject {
		files = &projectFiles{dir: e.ProjectDir, workdir: e.Workdir}
	}
	warn := func(s string) { x.res.Warnings = append(x.res.Warnings, s) }
	img, err := newImage(ctx, Environment{Store: en.Store, Snapshot: en.Snapshot, Pull: x.pull}, cfg, ann, files, warn)
	if err != nil {
		return RoleImage{}, err
	}
	n := len(img.layers)
	done := func(i int, l *layer) {
		size := ""
		if l.size > 0 {
			size = fmt.Sprintf(" (%.1f MiB)", float64(l.size)/(1<<20))
		}
		x.say(fmt.Sprintf("nook: export: layer %d/%d %s%s", i+1, n, strings.TrimPrefix(l.createdBy, "nook: "), size))
	}
	compressed := x.o.OCI != "" || x.o.Push != ""
	if compressed {
		dir, cleanup, err := x.spoolDir(en.Store)
		if err != nil {
			return RoleImage{}, err
		}
		defer cleanup()
		if err := img.make(ctx, dir, done); err != nil {
			return RoleImage{}, err
		}
	} else if x.o.DockerArchive == "" || !first {
		// Written nowhere (the manifests alone, or an image of another
		// environment beside a docker archive): the manifests name it
		// by its ID all the same, as an export that writes it does.
		if err := img.hash(ctx, done); err != nil {
			return RoleImage{}, err
		}
	}
	ref, err := x.imageName(img, key, first)
	if err != nil {
		return RoleImage{}, err
	}
	wr := Written{Name: ref.Name(), Command: role.Name}
	if x.o.DockerArchive != "" && first {
		x.say("nook: export: writing " + x.o.DockerArchive)
		d := done
		if compressed {
			d = nil
		}
		// The default name holds the image ID, known once the layers are.
		nameOf := func() (string, error) {
			ref, err = x.imageName(img, key, first)
			return ref.Name(), err
		}
		if err := writeDockerArchive(ctx, img, x.o.DockerArchive, nameOf, d); err != nil {
			return RoleImage{}, fmt.Errorf("writing docker archive %s: %w", x.o.DockerArchive, err)
		}
		x.res.Files = append(x.res.Files, Output{Kind: "docker-archive", Path: x.o.DockerArchive})
		wr.Name = ref.Name()
	}
	if x.o.OCI != "" {
		refName := ref.TagStr()
		if !first {
			refName = ref.Name() // the exported role's image has the tag
		}
		if err := writeOCI(ctx, img, x.o.OCI, ref, refName); err != nil {
			return RoleImage{}, err
		}
		if first {
			x.res.Files = append(x.res.Files, Output{Kind: "oci", Path: x.o.OCI})
		}
	}
	if x.o.Push != "" {
		x.say("nook: export: pushing " + ref.Name())
		if err := push(ctx, img, ref, x.pull, x.o.PushProgress); err != nil {
			return RoleImage{}, err
		}
		x.res.Files = append(x.res.Files, Output{Kind: "push", Path: ref.Name()})
	}
	if img.rawManifest != nil {
		d, _ := img.v1Image(false).Digest()
		wr.Digest = d.String()
	}
	wr.ID = img.ConfigDigest().String()
	x.res.Images = append(x.res.Images, wr)
	return RoleImage{Name: ref.Name(), Env: cfg.Config.Env, Base: en.Snapshot.Config.Env,
		Entrypoint: cfg.Config.Entrypoint, User: cfg.Config.User}, nil
}

// spoolDir is where the layers are compressed: straight into the OCI
// layout's blobs when one is written, else a temporary directory of the
// store, removed by cleanup.
func (x *exporter) spoolDir(store *layers.Store) (string, func(), error) {
	if x.o.OCI != "" {
		dir, err := ociBlobDir(x.o.OCI)
		return dir, func() {}, err
	}
	dir, err := os.MkdirTemp(filepath.Join(store.Root(), "tmp"), "export-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// imageName is the name of an image: --push REF, else --tag NAME, else
// nook.local/PROJECT:ID12 (the first 12 digits of its image ID; before
// the image is made, a placeholder). An image of another environment than
// the exported role's gets "-KEY" after its repository.
func (x *exporter) imageName(img *Image, key string, first bool) (name.Tag, error) {
	var s string
	switch {
	case x.o.Push != "":
		s = x.o.Push
	case x.o.Tag != "":
		s = x.o.Tag
	default:
		id := "pending"
		if img.rawConfig != nil {
			id = img.ConfigDigest().Hex[:12]
		}
		s = "nook.local/" + workload.DNSLabel(x.p.Env.Project) + ":" + id
	}
	var opts []name.Option
	if x.o.Push != "" {
		if r, err := pushReference(s, x.pull.Registries); err == nil && r.Context().Registry.Scheme() == "http" {
			opts = append(opts, name.Insecure)
		}
	}
	t, err := name.NewTag(s, opts...)
	if err != nil {
		flag := "--tag"
		if x.o.Push != "" {
			flag = "--push"
		}
		return name.Tag{}, usageError{msg: fmt.Sprintf("%s %s: %v", flag, s, err), hint: "name the image as REGISTRY/REPOSITORY:TAG"}
	}
	if !first {
		return otherEnvironmentName(t, key, opts...)
	}
	return t, nil
}

// otherEnvironmentName is the name of the image of the environment key
// when t names the exported role's: "-KEY" after t's repository, same tag.
func otherEnvironmentName(t name.Tag, key string, opts ...name.Option) (name.Tag, error) {
	return name.NewTag(t.Context().Name()+"-"+workload.DNSLabel(key)+":"+t.TagStr(), opts...)
}

// exportedRole is the role named, else the first long-running role, else
// the only role.
func exportedRole(p *project.Project, n string) (*env.Role, error) {
	e := p.Env
	if n != "" {
		return p.Role(n)
	}
	for _, n := range e.RoleNames() {
		if e.Roles[n].LongRunning() {
			return e.Roles[n], nil
		}
	}
	if names := e.RoleNames(); len(names) == 1 {
		return e.Roles[names[0]], nil
	}
	return nil, usageError{msg: fmt.Sprintf("%s: no role publishes ports or has a restart policy, so none is the image's command", e.File),
		hint: fmt.Sprintf("name the role: --role ROLE (roles: %s)", strings.Join(e.RoleNames(), ", "))}
}

// writeFile writes a manifest: beside path first, then renamed over it.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".nook-export-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// usageError is an export asked for in a way that cannot work, with the
// way to ask.
type usageError struct{ msg, hint string }

func (e usageError) Error() string { return e.msg }
func (e usageError) Hint() string  { return e.hint }
