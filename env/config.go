package env

// FileName is the name of a project file.
const FileName = "nook.toml"

// DefaultWorkdir is where the project directory is mounted when nook.toml
// does not say.
const DefaultWorkdir = "/work"

// DefaultUser is the user a role runs as when it does not say: root inside,
// which is the invoking user outside.
const DefaultUser = "root"

// Config is a validated nook.toml as written, with the I/O Resolve needs
// already done: the env_file read and the home directory known. Defaults are
// not applied yet; an empty string or nil means "not set".
type Config struct {
	File       string // the path as passed to Load, used in messages
	Path       string // absolute path of nook.toml
	ProjectDir string // absolute directory holding nook.toml
	Home       string // the user's home directory, for ~ in mount sources ("" if unknown)

	Image       string
	Packages    []string
	Setup       []string
	Workdir     string            // cleaned absolute path, or ""
	Hostname    string            // or "" for the sanitised project name
	Env         map[string]string // the env table, values converted to strings
	EnvFile     string            // env_file as written
	EnvFileVars map[string]string // the variables read from EnvFile
	Mounts      []Mount           // sources as written; targets cleaned
	Volumes     []Volume
	Roles       map[string]*RoleConfig

	// Warnings are problems that do not make the file invalid, each with
	// its file, line and column: a ${VAR} whose VAR is not set.
	Warnings []string
}

// RoleConfig is one [roles.NAME] table as written.
type RoleConfig struct {
	Command   []string // nil only for a role with an image of its own
	Shell     bool     // command was a string
	Env       map[string]string
	Workdir   string // cleaned absolute path, or ""
	Mounts    []Mount
	Volumes   []Volume
	Ports     []Port
	Network   string // or ""
	DependsOn []string
	Restart   string // or ""
	Ready     *Ready
	Watch     []string
	Ignore    []string
	User      string // or ""
	Tty       *bool
	Limits    Limits
	SSHAgent  bool

	// A role's own environment: an image, and packages and setup steps on
	// it ("" and nil: the role runs in the project's environment).
	// Entrypoint replaces the image's: nil keeps it, empty clears it.
	Image      string
	Packages   []string
	Setup      []string
	Entrypoint []string
}
