package mounts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nookenv/nook/mounts"
)

// The Apply tests re-execute the test binary as a child in new user,
// mount, pid, uts and ipc namespaces — as nook's init runs — with the
// invoking user mapped to root. The child applies a plan, runs the checks
// of its scenario from inside the new root and reports back as JSON on
// stdout; the parent asserts each check and then what the host sees.
const (
	childScenarioEnv = "NOOK_MOUNTS_TEST_SCENARIO"
	childInputEnv    = "NOOK_MOUNTS_TEST_INPUT"
)

func TestMain(m *testing.M) {
	if scenario, ok := os.LookupEnv(childScenarioEnv); ok {
		os.Exit(runChild(scenario))
	}
	os.Exit(m.Run())
}

// childInput is what the parent hands the child.
type childInput struct {
	Plan       *mounts.Plan `json:"plan"`
	Classic    bool         `json:"classic"`    // take overlay's mount(2) fallback
	Scratch    string       `json:"scratch"`    // host path that must be gone inside
	HostRoot   uint64       `json:"hostRoot"`   // device of the host's root filesystem
	Hostname   string       `json:"hostname"`   // expected in /etc/hostname
	ResolvConf string       `json:"resolvConf"` // expected in /etc/resolv.conf
	Layers     int          `json:"layers"`     // number of layers in the "layers" scenarios
}

// childReport is what the child hands back.
type childReport struct {
	ApplyErr  string            `json:"applyErr,omitempty"`
	ApplyHint string            `json:"applyHint,omitempty"`
	Results   map[string]string `json:"results"` // check name → "" when it passed, else what was wrong
}

// check is one assertion the child makes from inside the new root.
type check struct {
	name string
	run  func(in *childInput) error
}

// runChild is the child's side: apply, check, report.
func runChild(scenario string) int {
	var in childInput
	b, err := os.ReadFile(os.Getenv(childInputEnv))
	if err == nil {
		err = json.Unmarshal(b, &in)
	}
	if err != nil {
		os.Stderr.WriteString("child: reading input: " + err.Error() + "\n")
		return 2
	}
	*mounts.UseLowerdirPlus = !in.Classic
	rep := childReport{Results: map[string]string{}}
	if err := in.Plan.Apply(); err != nil {
		rep.ApplyErr = err.Error()
		var me *mounts.MountError
		if errors.As(err, &me) {
			rep.ApplyHint = me.Hint()
		}
	} else {
		for _, c := range scenarios[scenario] {
			rep.Results[c.name] = ""
			if err := c.run(&in); err != nil {
				rep.Results[c.name] = err.Error()
			}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 2
	}
	return 0
}

// startChild runs scenario in a child and returns its report.
func startChild(t *testing.T, scenario string, in *childInput) *childReport {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	inFile := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(inFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), childScenarioEnv+"="+scenario, childInputEnv+"="+inFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("child in new user namespace (are unprivileged user namespaces allowed?): %v\nstderr:\n%s", err, stderr.String())
	}
	var rep childReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("child report %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
	return &rep
}

// assertChecks fails the test unless Apply succeeded and every check of
// the scenario ran and passed, each as its own subtest.
func assertChecks(t *testing.T, scenario string, rep *childReport) {
	t.Helper()
	if rep.ApplyErr != "" {
		t.Fatalf("Apply: %s\nhint: %s", rep.ApplyErr, rep.ApplyHint)
	}
	for _, c := range scenarios[scenario] {
		t.Run(c.name, func(t *testing.T) {
			msg, ran := rep.Results[c.name]
			if !ran {
				t.Fatal("the child did not run this check")
			}
			if msg != "" {
				t.Error(msg)
			}
		})
	}
}

// assertScratchEmpty checks the host sees nothing left in the scratch dir.
func assertScratchEmpty(t *testing.T, scratch string) {
	t.Helper()
	entries, err := os.ReadDir(scratch)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("scratch dir %s holds %v on the host after the child exited, want nothing", scratch, names)
	}
}
