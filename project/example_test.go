package project_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nookenv/nook/project"
)

// Run the role "test" of the project in the working directory, after its
// dependencies, as `nook run test -- -v` does.
func Example() {
	p, err := project.Open("", "") // the nearest nook.toml upwards
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	role, err := p.Role("test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ctx := context.Background()
	pod := p.NewPodJoiner() // the roles below share one connection to the pod
	defer pod.Close()
	stop, err := p.StartDependencies(ctx, role, project.RunOptions{Pod: pod})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer stop() // the dependencies it started, once test has ended
	code, err := p.Run(ctx, role, project.RunOptions{Args: []string{"-v"}, Pod: pod})
	fmt.Println(code, err)
}

// The environment a role runs in — a role on an image of its own gets
// that image's, built as nook build would — and how the role runs there,
// as `docker run IMAGE` would: what an exporter needs for the role's
// container.
func ExampleProject_Environment() {
	p, err := project.Open("", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	role, err := p.Role("db")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	x, err := p.Environment(context.Background(), role)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	proc, err := project.RoleProcess(p.Env, role, x.Snapshot.Config, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(x.Of.ImageRef, x.Snapshot.Digest, x.Snapshot.Config.Env)
	fmt.Println(proc.Args, proc.Workdir, proc.User)
}
