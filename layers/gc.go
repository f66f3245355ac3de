package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultGCKeep is how long gc keeps an environment after its last use.
const DefaultGCKeep = 30 * 24 * time.Hour

// orphanGrace is how long gc spares a layer or record nothing references
// yet: a build or pull at work writes its environment or image record only
// after its layers.
const orphanGrace = time.Hour

// GCOptions configure a garbage collection.
type GCOptions struct {
	// Keep: environments used within it, and images pulled within it, are
	// kept; 0 means DefaultGCKeep. Negative keeps nothing for recency.
	Keep time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Volumes also removes the volumes of projects whose nook.toml is gone.
	Volumes bool
	// VolumesInUse, when set, is asked before the volumes of project p are
	// removed (with Volumes): a non-nil error, which names the project,
	// keeps them and the project's record, and is reported in Errors as
	// "keeping volumes: ERR". The CLI refuses the volumes of a project
	// whose roles run.
	VolumesInUse func(p ProjectRecord) error
	// Remove removes a tree; nil means the store's own removal. The CLI
	// passes rootless.RemoveAll for trees that hold subordinate ids.
	Remove func(string) error
	// Now is the time gc judges ages by; zero means time.Now().
	Now time.Time
}

// Removal is one thing gc removed (or, in a dry run, would remove).
type Removal struct {
	Kind string `json:"kind"` // "environment", "image", "ref", "layer", "built", "resolved", "tmp", "lock", "volume", "project"
	Name string `json:"name"` // what it is: a key, digest, reference, project/volume
	// Detail says more for a person: an environment's project, a built
	// layer's step.
	Detail string `json:"detail,omitempty"`
	Path   string `json:"path"`
	Size   int64  `json:"size"` // bytes on disk freed
}

// GCReport is what a collection did.
type GCReport struct {
	Removed []Removal `json:"removed"`
	Freed   int64     `json:"freed"`
	// Errors are removals that failed; gc goes on past them.
	Errors []string `json:"errors,omitempty"`
}

// GC removes what nothing needs: environments neither referenced by a
// project's nook.lock nor used within opt.Keep, the images, references and
// layers only they needed, built records of absent layers, directories left
// under tmp/ by makers that died, lock files of absent layers, and with
// opt.Volumes the volumes of projects whose nook.toml is gone. A project's
// nook.lock keeps the image it pins and the project's newest environment on
// it (every environment on it when none names the project). A layer is
// removed under its lock, so nothing a running nook is making is touched.
func (s *Store) GC(opt GCOptions) (*GCReport, error) {
	if opt.Keep == 0 {
		opt.Keep = DefaultGCKeep
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Remove == nil {
		opt.Remove = removeTree
	}
	g := &collector{s: s, opt: opt, rep: &GCReport{},
		keepLayers: map[string]bool{}, keepImages: map[string]bool{}, keepEnvs: map[string]bool{}}
	recent := func(t time.Time) bool { return opt.Keep > 0 && t.After(opt.Now.Add(-opt.Keep)) }
	grace := opt.Now.Add(-min(max(opt.Keep, 0), orphanGrace))

	projects, err := s.Projects()
	if err != nil {
		return nil, err
	}
	envs, err := s.gcEnvs()
	if err != nil {
		return nil, err
	}
	images, err := s.gcImages()
	if err != nil {
		return nil, err
	}

	// Roots: each live project's lock, then recent use.
	gone := map[string]bool{} // project ids whose nook.toml is gone
	for _, p := range projects {
		if _, err := os.Stat(p.File); errors.Is(err, fs.ErrNotExist) {
			gone[p.ID] = true
			continue
		}
		lock, err := ReadLock(filepath.Join(filepath.Dir(p.File), "nook.lock"))
		if err != nil || lock == nil {
			continue // an unreadable lock pins nothing; recent use still keeps
		}
		lock.each(func(role, platform string, pl *EnvLock) { g.keepLocked(p, role, platform, pl, envs) })
	}
	for _, e := range envs {
		if recent(e.used) {
			g.keepEnv(e)
		}
	}
	for _, im := range images {
		if recent(im.used) {
			g.keepImage(im.rec.Digest)
		}
	}
	for _, im := range images {
		if g.keepImages[im.rec.Digest] {
			for _, l := range im.rec.Layers {
				g.keepLayers[strings.TrimPrefix(l, "sha256:")] = true
			}
		}
	}

	// Records first, so that no record names a removed layer.
	for _, e := range envs {
		if !g.keepEnvs[e.rec.Key] {
			g.removeFile("environment", e.rec.Key, e.path)
			g.rep.Removed[len(g.rep.Removed)-1].Detail = e.rec.ProjectDir
		}
	}
	if err := s.eachRecord(refsDir, func(path string) {
		var rr refRecord
		if readRecord(path, &rr) == nil && !g.keepImages[rr.Digest] {
			g.removeFile("ref", rr.Ref+" ("+rr.Platform+")", path)
		}
	}); err != nil {
		return nil, err
	}
	for _, im := range images {
		if !g.keepImages[im.rec.Digest] {
			g.removeFile("image", im.rec.Digest, im.path)
		}
	}
	if err := g.layers(grace); err != nil {
		return nil, err
	}
	if err := g.builtRecords(grace); err != nil {
		return nil, err
	}
	if err := g.resolutions(grace); err != nil {
		return nil, err
	}
	g.tmp()
	g.locks()
	if opt.Volumes {
		for _, p := range projects {
			if !gone[p.ID] {
				continue
			}
			if opt.VolumesInUse != nil {
				if err := opt.VolumesInUse(p); err != nil {
					g.rep.Errors = append(g.rep.Errors, fmt.Sprintf("keeping volumes: %v", err))
					continue
				}
			}
			g.projectVolumes(p)
		}
	}
	return g.rep, nil
}

// collector is one run of GC.
type collector struct {
	s          *Store
	opt        GCOptions
	rep        *GCReport
	keepLayers map[string]bool // by hex
	keepImages map[string]bool // by digest
	keepEnvs   map[string]bool // by key
}

// gcEnv is an environment record and its last use.
type gcEnv struct {
	rec  EnvRecord
	path string
	used time.Time
}

// gcImage is an image record and its last pull.
type gcImage struct {
	rec  imageRecord
	path string
	used time.Time
}

func (s *Store) gcEnvs() ([]*gcEnv, error) {
	var out []*gcEnv
	err := s.eachRecord(envsDir, func(path string) {
		var e EnvRecord
		fi, err := os.Stat(path)
		if err == nil && readRecord(path, &e) == nil {
			out = append(out, &gcEnv{rec: e, path: path, used: fi.ModTime()})
		}
	})
	return out, err
}

// gcImages lists the image records; an image's last use is its last pull
// (the newest of its record and the ref records naming it).
func (s *Store) gcImages() ([]*gcImage, error) {
	pulled := map[string]time.Time{}
	err := s.eachRecord(refsDir, func(path string) {
		var rr refRecord
		fi, err := os.Stat(path)
		if err == nil && readRecord(path, &rr) == nil && fi.ModTime().After(pulled[rr.Digest]) {
			pulled[rr.Digest] = fi.ModTime()
		}
	})
	if err != nil {
		return nil, err
	}
	var out []*gcImage
	err = s.eachRecord(imagesDir, func(path string) {
		var ir imageRecord
		fi, err := os.Stat(path)
		if err == nil && readRecord(path, &ir) == nil {
			used := fi.ModTime()
			if pulled[ir.Digest].After(used) {
				used = pulled[ir.Digest]
			}
			out = append(out, &gcImage{rec: ir, path: path, used: used})
		}
	})
	return out, err
}

// keepLocked keeps what one entry of project p's lock references: the
// image it pins, and the newest environment of p built for the entry's
// environment (the project's, or role's own) on it.
func (g *collector) keepLocked(p ProjectRecord, role, platform string, pl *EnvLock, envs []*gcEnv) {
	g.keepImage(pl.Digest)
	var newest *gcEnv
	var onImage []*gcEnv
	for _, e := range envs {
		if e.rec.Digest != pl.Digest || e.rec.Platform != platform {
			continue
		}
		onImage = append(onImage, e)
		if e.rec.ProjectDir == p.Dir && e.rec.Role == role && (newest == nil || e.used.After(newest.used)) {
			newest = e
		}
	}
	if newest != nil {
		g.keepEnv(newest)
		return
	}
	// An environment shared by several projects (or roles) names the one
	// that built it last: when none names this one, any on its image may
	// be its own, and all are kept.
	for _, e := range onImage {
		g.keepEnv(e)
	}
}

func (g *collector) keepImage(digest string) { g.keepImages[digest] = true }

func (g *collector) keepEnv(e *gcEnv) {
	g.keepEnvs[e.rec.Key] = true
	g.keepImage(e.rec.Digest)
	for _, l := range e.rec.Layers {
		g.keepLayers[strings.TrimPrefix(l, "sha256:")] = true
	}
}

// layers removes each layer directory nothing kept names, unless it was
// made within the grace period (a build or pull may be at work on it), each
// under its lock.
func (g *collector) layers(grace time.Time) error {
	des, err := os.ReadDir(g.s.path(layersDir))
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	for _, de := range des {
		hex := de.Name()
		if g.keepLayers[hex] {
			continue
		}
		path := g.s.path(layersDir, hex)
		if changedAfter(path, grace) {
			continue
		}
		unlock, ok := g.lockLayer(hex)
		if !ok {
			continue
		}
		g.removeTree("layer", "sha256:"+hex, path)
		if n := len(g.rep.Removed); n > 0 && g.rep.Removed[n-1].Name == "sha256:"+hex {
			g.rep.Removed[n-1].Detail = g.layerDetail(hex)
		}
		unlock()
	}
	return nil
}

// layerDetail describes a layer: the step that made it, else "image layer".
func (g *collector) layerDetail(hex string) string {
	var b BuiltLayer
	if readRecord(g.s.path(builtDir, hex+".json"), &b) != nil {
		return "image layer"
	}
	text := strings.Join(strings.Fields(b.Text), " ")
	if len(text) > 60 {
		text = text[:57] + "..."
	}
	return b.Kind + ": " + text
}

// builtRecords removes the records of built layers that are not in the
// store (removed just now, or never renamed into place).
func (g *collector) builtRecords(grace time.Time) error {
	return g.s.eachRecord(builtDir, func(path string) {
		hex := strings.TrimSuffix(filepath.Base(path), ".json")
		if g.keepLayers[hex] || changedAfter(path, grace) {
			return
		}
		if _, err := os.Lstat(g.s.path(layersDir, hex)); err == nil && !g.removedLayer(hex) {
			return
		}
		g.removeFile("built", "sha256:"+hex, path)
	})
}

// removedLayer reports whether this run removed (or would remove) the layer.
func (g *collector) removedLayer(hex string) bool {
	for _, r := range g.rep.Removed {
		if r.Kind == "layer" && r.Name == "sha256:"+hex {
			return true
		}
	}
	return false
}

// tmp removes what dead makers left under tmp/: a directory whose layer's
// lock nobody holds.
func (g *collector) tmp() {
	des, err := os.ReadDir(g.s.path(tmpDir))
	if err != nil {
		return
	}
	for _, de := range des {
		hex, _, ok := strings.Cut(de.Name(), ".")
		if !ok {
			continue
		}
		if _, err := digestHex("sha256:" + hex); err != nil {
			continue
		}
		unlock, ok := g.lockLayer(hex)
		if !ok {
			continue
		}
		g.removeTree("tmp", de.Name(), g.s.path(tmpDir, de.Name()))
		unlock()
	}
}

// lockLayer takes the lock of layer hex if nobody holds it. A lock file
// that did not exist is not left behind, and a dry run creates none.
func (g *collector) lockLayer(hex string) (unlock func(), ok bool) {
	path := g.s.path(locksDir, hex+".lock")
	_, err := os.Lstat(path)
	existed := err == nil
	if !existed && g.opt.DryRun {
		return func() {}, true // no lock file: no maker
	}
	lock, ok, err := tryLockFile(path)
	if err != nil || !ok {
		return nil, false
	}
	return func() {
		if !existed {
			os.Remove(path)
		}
		lock.unlock()
	}, true
}

// locks removes the lock files of layers that are not in the store, each
// while holding it (lockFile retries on a file removed under it).
func (g *collector) locks() {
	des, err := os.ReadDir(g.s.path(locksDir))
	if err != nil {
		return
	}
	for _, de := range des {
		hex, ok := strings.CutSuffix(de.Name(), ".lock")
		if !ok {
			continue
		}
		if _, err := os.Lstat(g.s.path(layersDir, hex)); err == nil && !g.removedLayer(hex) {
			continue
		}
		if g.hasTmp(hex) {
			continue
		}
		path := g.s.path(locksDir, de.Name())
		lock, ok, err := tryLockFile(path)
		if err != nil || !ok {
			continue
		}
		g.removeFile("lock", "sha256:"+hex, path)
		lock.unlock()
	}
}

// hasTmp reports whether tmp/ still holds a directory of hex (one in use).
func (g *collector) hasTmp(hex string) bool {
	des, _ := os.ReadDir(g.s.path(tmpDir))
	return slices.ContainsFunc(des, func(de os.DirEntry) bool { return strings.HasPrefix(de.Name(), hex+".") })
}

// projectVolumes removes the volumes of a project whose nook.toml is gone,
// then its record.
func (g *collector) projectVolumes(p ProjectRecord) {
	vols, err := g.s.Volumes(p.ID)
	if err != nil {
		g.rep.Errors = append(g.rep.Errors, err.Error())
		return
	}
	for _, v := range vols {
		g.removeTree("volume", p.Dir+": "+v.Name, v.Path)
	}
	if !g.opt.DryRun {
		os.Remove(g.s.VolumesDir(p.ID)) // empty now; what could not be removed stays
	}
	g.removeFile("project", p.Dir, g.s.path(projectsDir, p.ID+".json"))
}

// removeTree removes (or, in a dry run, measures) the tree at path.
func (g *collector) removeTree(kind, name, path string) {
	size, _ := diskUsage(path, nil)
	if !g.opt.DryRun {
		if err := g.opt.Remove(path); err != nil {
			g.rep.Errors = append(g.rep.Errors, fmt.Sprintf("removing %s %s: %v", kind, name, err))
			return
		}
	}
	g.rep.Removed = append(g.rep.Removed, Removal{Kind: kind, Name: name, Path: path, Size: size})
	g.rep.Freed += size
}

// removeFile removes (or, in a dry run, measures) one file.
func (g *collector) removeFile(kind, name, path string) {
	var size int64
	if fi, err := os.Lstat(path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			size = st.Blocks * 512
		}
	}
	if !g.opt.DryRun {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			g.rep.Errors = append(g.rep.Errors, fmt.Sprintf("removing %s %s: %v", kind, name, err))
			return
		}
	}
	g.rep.Removed = append(g.rep.Removed, Removal{Kind: kind, Name: name, Path: path, Size: size})
	g.rep.Freed += size
}
