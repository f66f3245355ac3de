package build_test

import (
	"fmt"

	"github.com/nookenv/nook/build"
)

// MakePlan lays out a project's steps on its image: the packages layer
// first, pinned at the lock's versions (the declared packages and what
// they pulled in), then one layer per setup step.
func ExampleMakePlan() {
	plan, err := build.MakePlan(build.Input{
		Platform: "linux/amd64",
		Digest:   "sha256:8f3ad3c0ab8c6e8a5c4e2b0d3f1e7a9c6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
		Manager:  build.ManagerByName("apt-get"),
		Packages: []string{"make", "hello"},
		Versions: map[string]string{"hello": "2.10-3", "make": "4.3-4.1", "libfoo1": "1.0-1"},
		Complete: true,
		Setup:    []string{"make -C tools install"},
		IDMap:    "single",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range plan.Steps {
		fmt.Printf("%s: %s\n", st.Kind, st.Text)
	}
	fmt.Println("pinned:", plan.Pinned, "top is the last step:", plan.Top == plan.Steps[1].Key)
	// Output:
	// packages: apt-get install hello=2.10-3 libfoo1=1.0-1 make=4.3-4.1
	// setup: make -C tools install
	// pinned: true top is the last step: true
}
