package manifests

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nookenv/nook/export/workload"
)

// request is req as nook export sends it: JSON.
func request(t *testing.T, req workload.Request) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// The workload crosses to nook-manifests as JSON and gives the same files
// as the mappings called directly.
func TestServeWritesWhatTheMappingsWrite(t *testing.T) {
	args := []string{workload.ManifestsName, workload.BuildID()}
	wantK8s, wantWarn, err := Kubernetes(shopWorkload(), workload.KindDeployment)
	if err != nil {
		t.Fatal(err)
	}
	rep := serve(args, request(t, workload.Request{Format: workload.FormatKubernetes, Kind: workload.KindDeployment, Workload: shopWorkload()}))
	if rep.Error != "" || !bytes.Equal(rep.File, wantK8s) || !slices.Equal(rep.Warnings, wantWarn) {
		t.Errorf("k8s through serve: error %q, warnings %q (want %q), file:\n%s\nwant:\n%s", rep.Error, rep.Warnings, wantWarn, rep.File, wantK8s)
	}
	path := filepath.Join("/home/dev/shop", "compose.yaml")
	wantCompose, _, err := Compose(shopWorkload(), path)
	if err != nil {
		t.Fatal(err)
	}
	rep = serve(args, request(t, workload.Request{Format: workload.FormatCompose, Path: path, Workload: shopWorkload()}))
	if rep.Error != "" || !bytes.Equal(rep.File, wantCompose) {
		t.Errorf("compose through serve: error %q, file:\n%s\nwant:\n%s", rep.Error, rep.File, wantCompose)
	}
}

func TestServeRefuses(t *testing.T) {
	ok := []string{workload.ManifestsName, workload.BuildID()}
	good := workload.Request{Format: workload.FormatKubernetes, Workload: shopWorkload()}
	for _, c := range []struct {
		name string
		args []string
		in   string
		want string
		hint string
	}{
		{"another build", []string{workload.ManifestsName, "v0.1.0/go1.0/x"}, "", "is not from nook's build", "go install github.com/nookenv/nook/cmd/..."},
		{"by hand", []string{workload.ManifestsName}, "", "it is not a command of its own", ""},
		{"no JSON", ok, "k8s please", "reading the request", ""},
		{"no workload", ok, `{"Format":"k8s"}`, "holds no workload", ""},
		{"unknown format", ok, `{"Format":"helm","Workload":{"Env":{}}}`, `unknown format "helm"`, ""},
		{"unknown kind", ok, "", `--k8s-kind "daemonset"`, ""},
	} {
		in := strings.NewReader(c.in)
		if c.in == "" {
			req := good
			if c.name == "unknown kind" {
				req.Kind = "daemonset"
			}
			b, _ := json.Marshal(req)
			in = strings.NewReader(string(b))
		}
		rep := serve(c.args, in)
		if !strings.Contains(rep.Error, c.want) || rep.File != nil {
			t.Errorf("%s: reply %+v, want the error %q and no file", c.name, rep, c.want)
		}
		if !strings.Contains(rep.Hint, c.hint) {
			t.Errorf("%s: hint %q, want %q", c.name, rep.Hint, c.hint)
		}
	}
}
