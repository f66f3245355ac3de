package project_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nookenv/nook/project"
)

// Run the role "test" of the project in the working directory, after its
// one-shot dependencies, as `nook run test -- -v` does.
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
	for _, dep := range p.OneShotDependencies(role) {
		if code, err := p.Start(ctx, p.Env.Roles[dep], project.RunOptions{Pod: pod}); err != nil || code != 0 {
			fmt.Fprintf(os.Stderr, "%s: status %d: %v\n", dep, code, err)
			return
		}
	}
	code, err := p.Run(ctx, role, project.RunOptions{Args: []string{"-v"}, Pod: pod})
	fmt.Println(code, err)
}
