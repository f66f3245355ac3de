package build

import (
	"strings"
	"testing"

	"github.com/nookenv/nook/layers"
)

const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func input() Input {
	return Input{
		Platform: "linux/amd64",
		Digest:   digest,
		Manager:  ManagerByName("apt-get"),
		Packages: []string{"make", "hello"},
		Versions: map[string]string{"hello": "2.10-3", "make": "4.3-4.1", "libfoo1": "1.0-1"},
		Complete: true,
		Setup:    []string{"echo one", "echo two", "echo three"},
		Env:      []string{"A=1"},
		IDMap:    "single",
	}
}

func plan(t *testing.T, in Input) *Plan {
	t.Helper()
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func keys(p *Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Key
	}
	return out
}

func TestPlanOrdersPackagesThenSetup(t *testing.T) {
	p := plan(t, input())
	if len(p.Steps) != 4 {
		t.Fatalf("%d steps, want 4", len(p.Steps))
	}
	if st := p.Steps[0]; st.Kind != layers.KindPackages || st.Text != "apt-get install hello=2.10-3 libfoo1=1.0-1 make=4.3-4.1" {
		t.Errorf("step 1 = %s %q", st.Kind, st.Text)
	}
	if !p.Pinned {
		t.Error("every package has a version, but the plan is not pinned")
	}
	if p.Steps[0].Parent != layers.BaseKey("linux/amd64", digest) {
		t.Errorf("first parent = %s", p.Steps[0].Parent)
	}
	for i := 1; i < 4; i++ {
		if p.Steps[i].Kind != layers.KindSetup || p.Steps[i].Parent != p.Steps[i-1].Key {
			t.Errorf("step %d: kind %s, parent %s, want setup on %s", i+1, p.Steps[i].Kind, p.Steps[i].Parent, p.Steps[i-1].Key)
		}
	}
	if p.Top != p.Steps[3].Key {
		t.Errorf("top = %s, want the last step's key %s", p.Top, p.Steps[3].Key)
	}
	if got := p.label(1); got != "[2/4] setup: echo one" {
		t.Errorf("label = %q", got)
	}
	if got := p.label(0); got != "[1/4] packages: apt-get install hello=2.10-3 make=4.3-4.1 (and 1 more they need, pinned)" {
		t.Errorf("label = %q", got)
	}
}

func TestPlanChangingOneStepRekeysItAndTheStepsAfter(t *testing.T) {
	before := keys(plan(t, input()))
	in := input()
	in.Setup = []string{"echo one", "echo TWO", "echo three"}
	after := keys(plan(t, in))
	for i, same := range []bool{true, true, false, false} {
		if (before[i] == after[i]) != same {
			t.Errorf("step %d: key kept = %v, want %v", i+1, before[i] == after[i], same)
		}
	}
}

func TestPlanKeysDependOnWhatTheStepsSee(t *testing.T) {
	base := keys(plan(t, input()))
	for name, change := range map[string]func(*Input){
		"image digest": func(in *Input) { in.Digest = strings.Replace(digest, "1", "2", 1) },
		"platform":     func(in *Input) { in.Platform = "linux/arm64" },
		"env":          func(in *Input) { in.Env = []string{"A=2"} },
		"id map":       func(in *Input) { in.IDMap = "full" },
		"version":      func(in *Input) { in.Versions["hello"] = "2.10-2" },
		"dependency":   func(in *Input) { in.Versions["libfoo1"] = "1.0-2" },
		"package":      func(in *Input) { in.Packages = append(in.Packages, "curl"); in.Versions["curl"] = "7" },
	} {
		in := input()
		change(&in)
		got := keys(plan(t, in))
		for i := range got {
			if got[i] == base[i] {
				t.Errorf("changing the %s kept the key of step %d", name, i+1)
			}
		}
	}
}

func TestPlanIgnoresPackageOrderAndDuplicates(t *testing.T) {
	in := input()
	in.Packages = []string{"hello", "make", "hello"}
	if a, b := keys(plan(t, input())), keys(plan(t, in)); a[0] != b[0] {
		t.Error("reordering the packages changed the key")
	}
}

func TestPlanWithoutVersionsIsProvisional(t *testing.T) {
	in := input()
	in.Versions, in.Complete = map[string]string{"hello": "2.10-3"}, false
	p := plan(t, in)
	if p.Pinned {
		t.Error("make has no version, but the plan is pinned")
	}
	if got := p.Steps[0].Text; got != "apt-get install hello=2.10-3 make" {
		t.Errorf("text = %q", got)
	}
	script := p.Steps[0].Script
	if !strings.Contains(script, "install -y --no-install-recommends hello=2.10-3 make\n") {
		t.Errorf("script does not install the packages:\n%s", script)
	}
	before, after := strings.Index(script, ">/"+beforeFile), strings.Index(script, ">/"+afterFile)
	install := strings.Index(script, "install -y")
	if before < 0 || after < 0 || !(before < install && install < after) {
		t.Errorf("script does not list the installed packages before and after installing:\n%s", script)
	}
}

func TestPlanOfDeclaredVersionsAloneIsProvisional(t *testing.T) {
	// An older nook's lock: the declared packages pinned, nothing else.
	in := input()
	in.Versions, in.Complete = map[string]string{"hello": "2.10-3", "make": "4.3-4.1"}, false
	p := plan(t, in)
	if p.Pinned {
		t.Error("the plan is pinned, but nothing says what the packages pulled in")
	}
	// The key such a lock always gave: an older nook's layer is found.
	if got := p.Steps[0].Text; got != "apt-get install hello=2.10-3 make=4.3-4.1" {
		t.Errorf("text = %q", got)
	}
}

func TestResolutionKeyIgnoresVersions(t *testing.T) {
	in := input()
	unpinned := input()
	unpinned.Versions, unpinned.Complete = nil, false
	if resolutionKey(in) != resolutionKey(unpinned) || resolutionKey(in) != plan(t, unpinned).Steps[0].Key {
		t.Error("the resolution key depends on the versions, or is not the unpinned step's key")
	}
	for name, change := range map[string]func(*Input){
		"image":   func(in *Input) { in.Digest = strings.Replace(digest, "1", "2", 1) },
		"env":     func(in *Input) { in.Env = []string{"A=2"} },
		"id map":  func(in *Input) { in.IDMap = "full" },
		"package": func(in *Input) { in.Packages = append(in.Packages, "curl") },
		"manager": func(in *Input) { in.Manager = ManagerByName("apk") },
	} {
		other := input()
		change(&other)
		if resolutionKey(other) == resolutionKey(in) {
			t.Errorf("changing the %s kept the resolution key", name)
		}
	}
}

func TestPlanWithoutStepsNamesTheImage(t *testing.T) {
	in := Input{Platform: "linux/amd64", Digest: digest, IDMap: "single"}
	p := plan(t, in)
	in.Digest = strings.Replace(digest, "1", "2", 1)
	q := plan(t, in)
	if len(p.Steps) != 0 || p.Top == q.Top || !strings.HasPrefix(p.Top, "sha256:") {
		t.Errorf("tops %s and %s for two images without steps", p.Top, q.Top)
	}
}

func TestPlanRefusesPackagesWithoutAManager(t *testing.T) {
	in := input()
	in.Manager = nil
	if _, err := MakePlan(in); err == nil {
		t.Error("packages without a manager were planned")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"hello":        "hello",
		"libc6=2.36-9": "libc6=2.36-9",
		"a b":          "'a b'",
		"it's":         `'it'\''s'`,
		"$(reboot)":    "'$(reboot)'",
		"~root":        "'~root'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
