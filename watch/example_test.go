package watch_test

import (
	"fmt"
	"log"

	"github.com/nookenv/nook/watch"
)

// A consumer runs one thing at a time: bursts that end while it is busy merge
// into the next Trigger, so at most one more run is ever queued.
func ExampleNew() {
	w, err := watch.New(watch.Options{
		Root:     ".",
		Rules:    []watch.Rule{{Name: "build", Watch: []string{"**/*.go", "go.mod"}, Ignore: []string{"bin/**"}}},
		Always:   []string{"nook.toml", "nook.lock"},
		Debounce: watch.DefaultDebounce,
	})
	if err != nil {
		log.Fatal(err) // a *watch.LimitError has a Hint
	}
	defer w.Close()
	go func() {
		for err := range w.Errors() {
			log.Print(err)
		}
	}()
	for t := range w.Triggers() {
		if t.Has("") {
			fmt.Println("rebuild the environment")
		}
		fmt.Println("run", t.Names, "for", t.Files)
	}
}
