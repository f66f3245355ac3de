package rootless

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nookenv/nook/mounts"
)

// TrialName is the name (argv[0]) under which Trial's command re-executes
// nook-init: its main routes it to TrialMain.
const TrialName = "nook-trial"

// trialProbe is the file of the trial's lower layer that its command
// reads, then removes through the overlay.
const trialProbe = "probe"

// trialLimit bounds a trial that hangs: it takes milliseconds.
const trialLimit = 10 * time.Second

// Trial starts a role as nook run does, through nook-init in new user,
// mount, pid, uts, ipc and network namespaces, on an overlay (userxattr,
// its upper directory on a tmpfs) whose lower directory it makes in dir,
// an empty directory. The command is nook-init itself, re-executed as
// TrialName from the overlay: it checks that it runs under a pid 1 of its
// own, reads a file of the lower layer through the overlay and removes it
// (a whiteout in the upper directory). Trial returns nil when all of that
// works; else the failure, with a Hint where one is known.
func Trial(dir string) error {
	lower, scratch := filepath.Join(dir, "lower"), filepath.Join(dir, "scratch")
	for _, d := range []string{lower, scratch} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("preparing the trial: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, trialProbe), []byte("nook\n"), 0o644); err != nil {
		return fmt.Errorf("preparing the trial: %w", err)
	}
	// Through the overlay, this link leads nook-init's exec back to itself.
	if err := os.Symlink("/proc/self/exe", filepath.Join(lower, TrialName)); err != nil {
		return fmt.Errorf("preparing the trial: %w", err)
	}
	root := filepath.Join(scratch, "root")
	plan := &mounts.Plan{Root: root, Ops: []mounts.Op{
		{Kind: mounts.OpSlave, Target: "/"},
		{Kind: mounts.OpMount, Target: scratch, FSType: "tmpfs", Source: "nook", Options: []string{"mode=0700"}, Flags: []string{"nosuid", "nodev"}},
		{Kind: mounts.OpMkdir, Target: filepath.Join(scratch, "upper"), Mode: 0o755},
		{Kind: mounts.OpMkdir, Target: filepath.Join(scratch, "work"), Mode: 0o700},
		{Kind: mounts.OpMkdir, Target: root, Mode: 0o755},
		{Kind: mounts.OpOverlay, Target: root, Source: "nook", Lowers: []string{lower},
			Upper: filepath.Join(scratch, "upper"), Work: filepath.Join(scratch, "work"),
			LinkDir: filepath.Join(scratch, "lowers"), Options: []string{"userxattr"}},
	}}
	spec := &Spec{
		Plan:     plan,
		Hostname: "nook-trial",
		NewNet:   true,
		Process:  Process{Args: []string{filepath.Join(root, TrialName), root}, Env: []string{}, Cwd: "/"},
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("starting the trial: %w", err)
	}
	defer r.Close()
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 4096))
		out <- strings.TrimSpace(string(b))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), trialLimit)
	defer cancel()
	spec.StopTimeout = time.Second
	code, err := Run(ctx, spec, Stdio{Out: w, Err: w})
	w.Close() // the namespaces are gone with their init: nothing else holds it
	said := <-out
	switch {
	case err != nil:
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("the trial did not end within %v", trialLimit)
	case code != 0:
		if said == "" {
			said = fmt.Sprintf("it exited with status %d", code)
		}
		return errors.New(said)
	}
	return nil
}

// TrialMain is the body of Trial's command, nook-init re-executed as
// TrialName with the overlay's mount point as its argument. It exits 0
// when it runs under a pid 1 of its own and the overlay reads the lower
// layer and takes a removal; else it says what failed and exits 1.
func TrialMain() {
	if err := trialChecks(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func trialChecks(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: %s ROOT", TrialName)
	}
	if ppid := os.Getppid(); ppid != 1 {
		return fmt.Errorf("the command's parent is pid %d, not nook-init as pid 1 of a pid namespace of its own", ppid)
	}
	probe := filepath.Join(args[0], trialProbe)
	b, err := os.ReadFile(probe)
	if err != nil || !bytes.Equal(b, []byte("nook\n")) {
		return fmt.Errorf("reading a file of the lower layer through the overlay: %q, %v", b, err)
	}
	if err := os.Remove(probe); err != nil {
		return fmt.Errorf("removing a file of the lower layer through the overlay (a whiteout): %w", err)
	}
	if _, err := os.Stat(probe); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("a file removed through the overlay is still there (%v)", err)
	}
	return nil
}
