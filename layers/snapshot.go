package layers

// Snapshot is what running an image needs: the layer directories to stack
// and the image config. It is read from a small record in the store.
type Snapshot struct {
	Ref    string      // the reference as the user wrote it
	Digest string      // resolved manifest digest ("sha256:…"); empty for the host base
	Lowers []string    // absolute layer directories, bottom layer first
	Config ImageConfig // the parts of the image config a run uses

	// Host is set for the "host" base: the root is the host's own root
	// filesystem, read-only, and HostEntries lists its top-level entries.
	Host        bool
	HostEntries []HostEntry
}

// ImageConfig is the subset of an OCI image config that nook uses.
type ImageConfig struct {
	Env        []string `json:"env,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	User       string   `json:"user,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
}

// HostEntry is a top-level entry of the host's root filesystem.
type HostEntry struct {
	Name    string // e.g. "usr"
	Symlink string // link target when the entry is a symbolic link (e.g. "usr/bin" for "bin")
	Dir     bool   // the entry is a directory
}
