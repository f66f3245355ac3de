package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nookenv/nook/export"
)

func newExportCmd(g *globals) *cobra.Command {
	var o export.Options
	c := &cobra.Command{
		Use:   "export [--oci DIR | --docker-archive FILE | --push REF] [--k8s FILE] [--compose FILE]",
		Short: "Export the environment as an OCI image, and the roles as Kubernetes or Compose manifests",
		Long: "Export the built environment (built first if missing) as an OCI image: its layers,\n" +
			"the project's files at workdir (as git would track them) and a config that runs the\n" +
			"exported role's command. The same environment and files give the same image.\n" +
			"--k8s and --compose describe the roles `nook up` starts, running that image.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := openProject(g)
			if err != nil {
				return err
			}
			o.Say = stderrPrinter{}.Line
			if term.IsTerminal(int(os.Stderr.Fd())) {
				bar := &pushBar{}
				o.PushProgress = bar.update
				defer bar.finish()
			}
			res, err := export.Export(c.Context(), p, o)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				stderrPrinter{}.Line("nook: warning: " + w)
			}
			printExported(res)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Role, "role", "", "the role whose command the image runs (default: the first long-running role)")
	f.BoolVar(&o.NoProject, "no-project", false, "leave the project's files out of the image")
	f.StringVar(&o.OCI, "oci", "", "write the image to the OCI image layout `DIR`")
	f.StringVar(&o.DockerArchive, "docker-archive", "", "write the image to `FILE`, for podman load or docker load")
	f.StringVar(&o.Push, "push", "", "push the image to the registry reference `REF`")
	f.StringVar(&o.Tag, "tag", "", "name the image `NAME` (default nook.local/PROJECT:ID12)")
	f.StringVar(&o.K8s, "k8s", "", "write Kubernetes manifests to `FILE`")
	f.StringVar(&o.K8sKind, "k8s-kind", export.KindPod, "the workload of the manifests: pod or deployment")
	f.StringVar(&o.Compose, "compose", "", "write a Compose file to `FILE`")
	return c
}

// printExported says what was written and how to run it.
func printExported(res *export.Result) {
	for _, img := range res.Images {
		id := img.Digest
		if id == "" {
			id = "image ID " + img.ID
		}
		fmt.Printf("exported %s (%s), running %s\n", img.Name, id, img.Command)
	}
	if len(res.Images) == 0 {
		return
	}
	name := res.Images[0].Name
	for _, f := range res.Files {
		switch f.Kind {
		case "docker-archive":
			fmt.Printf("  %s: podman load -i %s && podman run --rm %s   (or docker load -i %[1]s)\n", f.Path, f.Path, name)
		case "oci":
			tag := name[strings.LastIndexByte(name, ':')+1:]
			fmt.Printf("  %s: podman run --rm oci:%s:%s\n", f.Path, f.Path, tag)
		case "push":
			fmt.Printf("  %s: podman run --rm %s\n", f.Path, f.Path)
		case "k8s":
			fmt.Printf("  %s: kubectl apply -f %s   (here: podman kube play %[1]s)\n", f.Path, f.Path)
		case "compose":
			fmt.Printf("  %s: docker compose -f %s up   (or podman compose)\n", f.Path, f.Path)
		}
	}
}

// pushBar draws the progress of a push on a terminal.
type pushBar struct {
	drawn time.Time
}

func (b *pushBar) update(done, total int64) {
	if time.Since(b.drawn) < 100*time.Millisecond && done < total {
		return
	}
	b.drawn = time.Now()
	const width = 24
	filled := 0
	if total > 0 {
		filled = int(min(done, total) * width / total)
	}
	sayMu.Lock()
	defer sayMu.Unlock()
	fmt.Fprintf(os.Stderr, "\r\x1b[Kpushing [%s%s] %.1f/%.1f MiB", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		float64(done)/(1<<20), float64(total)/(1<<20))
}

func (b *pushBar) finish() {
	if !b.drawn.IsZero() {
		fmt.Fprintln(os.Stderr)
	}
}
