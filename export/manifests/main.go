package manifests

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/internal/companion"
)

// Main is the body of nook-manifests (cmd/nook-manifests), which nook
// export starts with nook's build id as its argument: it checks that id,
// reads a workload.Request on stdin, writes the file it asks for and
// answers a workload.Reply on stdout. It exits 0 when it could answer.
// It never returns.
func Main() {
	rep := serve(os.Args, os.Stdin)
	b, err := json.Marshal(rep)
	if err == nil {
		_, err = os.Stdout.Write(b)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: answering: %v\n", workload.ManifestsName, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve answers the request on in for a process started with args.
func serve(args []string, in io.Reader) workload.Reply {
	if err := companion.Check(args, workload.BuildID()); err != nil {
		rep := workload.Reply{Error: err.Error()}
		var hinter interface{ Hint() string }
		if errors.As(err, &hinter) {
			rep.Hint = hinter.Hint()
		}
		return rep
	}
	var req workload.Request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return workload.Reply{Error: fmt.Sprintf("reading the request: %v", err)}
	}
	if req.Workload == nil || req.Workload.Env == nil {
		return workload.Reply{Error: "the request holds no workload"}
	}
	var (
		file     []byte
		warnings []string
		err      error
	)
	switch req.Format {
	case workload.FormatKubernetes:
		file, warnings, err = Kubernetes(req.Workload, req.Kind)
	case workload.FormatCompose:
		file, warnings, err = Compose(req.Workload, req.Path)
	default:
		err = fmt.Errorf("unknown format %q", req.Format)
	}
	if err != nil {
		return workload.Reply{Error: err.Error()}
	}
	return workload.Reply{File: file, Warnings: warnings}
}
