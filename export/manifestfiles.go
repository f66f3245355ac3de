package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/internal/companion"
)

// Kinds of workload --k8s-kind takes.
const (
	KindPod        = workload.KindPod
	KindDeployment = workload.KindDeployment
)

// Workload and RoleImage are what the manifests describe (package
// workload).
type (
	Workload  = workload.Workload
	RoleImage = workload.RoleImage
)

// Kubernetes writes the workload as Kubernetes manifests of kind (see
// manifests.Kubernetes) through nook-manifests, and returns them and what
// did not carry over.
func Kubernetes(w *Workload, kind string) ([]byte, []string, error) {
	return writeManifests(workload.Request{Format: workload.FormatKubernetes, Kind: kind, Workload: w})
}

// Compose writes the workload as a Compose file for a file at path (see
// manifests.Compose) through nook-manifests, and returns it and what did
// not carry over.
func Compose(w *Workload, path string) ([]byte, []string, error) {
	return writeManifests(workload.Request{Format: workload.FormatCompose, Path: path, Workload: w})
}

// writeManifests asks nook-manifests, beside nook, for the file of req.
func writeManifests(req workload.Request) ([]byte, []string, error) {
	path, err := companion.Path(workload.ManifestsName)
	if err != nil {
		return nil, nil, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the workload for %s: %w", workload.ManifestsName, err)
	}
	var out bytes.Buffer
	cmd := &exec.Cmd{
		Path:   path,
		Args:   []string{workload.ManifestsName, workload.BuildID()},
		Stdin:  bytes.NewReader(in),
		Stdout: &out,
		Stderr: os.Stderr,
	}
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		if err := companion.StartError(path, "nook export writes Kubernetes and Compose files through it", runErr); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("running %s: %w", path, runErr)
	}
	var rep workload.Reply
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		if runErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, runErr)
		}
		return nil, nil, fmt.Errorf("reading what %s answered: %w", path, err)
	}
	if rep.Error != "" {
		return nil, nil, usageError{msg: rep.Error, hint: rep.Hint}
	}
	return rep.File, rep.Warnings, nil
}
