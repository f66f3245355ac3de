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
