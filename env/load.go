package env

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// topLevelKeys are the keys nook.toml may hold outside roles.
var topLevelKeys = []string{"image", "packages", "setup", "workdir", "hostname", "env", "env_file", "mounts", "volumes", "roles"}

// Load reads the nook.toml at path and the env_file it names, validates
// everything and returns the parsed Config. On an invalid file it returns
// every problem found, sorted by position and joined with errors.Join; each
// is an *Error naming path as it was given, so a user can fix the file in
// one go. Nothing should be built or run from a file Load refuses.
//
// Every string value is interpolated first (${VAR}, ${VAR:-default},
// ${VAR:?message}, $$), from the host's environment and the project's .env;
// Config.Warnings names the variables that were unset.
func Load(path string) (*Config, error) {
	return load(path, os.LookupEnv)
}

// load is Load with the host's environment looked up by lookupEnv.
func load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := readInput(path, path, true)
	var bad *Error
	if errors.As(err, &bad) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading the project file: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("finding the absolute path of %s: %w", path, err)
	}
	home := homeDir()
	c := &Config{File: path, Path: abs, ProjectDir: filepath.Dir(abs), Home: home}

	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, syntaxError(path, string(data), err)
	}
	errs := &errorList{first: path}
	d := &projectDecoder{
		decoder: &decoder{file: path, pos: scanPositions(string(data)), errs: errs},
		home:    home,
		targets: map[string][]target{},
	}
	if bytes.IndexByte(data, '$') >= 0 {
		d.interpolate(doc, &interpolation{lookupEnv: lookupEnv, dir: c.ProjectDir})
		if err := errs.err(); err != nil {
			return nil, err // the values as written would only add noise
		}
	}
	d.config(doc, c)
	d.checkTargets()
	d.checkPorts()
	d.checkDependencies(c)
	if c.EnvFile != "" {
		d.readEnvFile(c)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	c.Warnings = d.warnings
	return c, nil
}

// syntaxError turns the TOML library's error into an *Error.
func syntaxError(file, data string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("parsing %s: %w", file, err)
	}
	line, col := offsetPosition(data, pe.Position.Start)
	if line > pe.Position.Line {
		// Start is past what the parser was looking at (e.g. at the end of
		// the file): trust the parser's line. (When Start is on an earlier
		// line, the lexer had moved past a newline and Start is exact.)
		line, col = pe.Position.Line, 1
	}
	hint := strings.TrimSpace(pe.Usage)
	if hint == "" && strings.HasPrefix(pe.Message, "expected value but found") {
		hint = `strings are quoted: write key = "value"`
	}
	return &Error{File: file, Line: line, Col: col, Key: pe.LastKey, Msg: pe.Message, Fix: hint}
}

// offsetPosition turns a byte offset into a line and column.
func offsetPosition(data string, offset int) (int, int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line := strings.Count(before, "\n") + 1
	return line, offset - (strings.LastIndexByte(before, '\n') + 1) + 1
}

// projectDecoder decodes nook.toml and keeps what the cross-field checks
// need: where every target and port was written.
type projectDecoder struct {
	*decoder
	home      string              // for ~ in mount sources; "" when unknown
	targets   map[string][]target // by role name; "" holds the top-level ones
	ports     []published
	roleOrder []string // role names in the order they are written
	warnings  []string // problems that do not make the file invalid
}

// target is a path something is mounted at, and where it was declared.
type target struct {
	path      string
	desc      string // how to name it to the user
	isProject bool   // the project directory's own mount at workdir
	key       []string
	pos       position
}

// published is a port and the role that publishes it.
type published struct {
	port Port
	role string
	key  []string
	pos  position
}

// config decodes the top level of nook.toml into c.
func (d *projectDecoder) config(doc map[string]any, c *Config) {
	workdir := DefaultWorkdir
	workdirAt := position{}
	for _, k := range sortedKeys(doc) {
		v, key := doc[k], []string{k}
		switch k {
		case "image":
			c.Image, _ = d.image(key, v)
		case "packages":
			c.Packages = d.packages(key, v)
		case "setup":
			c.Setup = d.setup(key, v)
		case "workdir":
			if s, ok := d.str(key, v); ok {
				dir, err := checkWorkdir(s)
				switch {
				case err != nil:
					d.failSpec(key, -1, err)
				case dir == "/":
					d.fail(key, "", "the project directory cannot be mounted at /")
				default:
					c.Workdir, workdir, workdirAt = dir, dir, d.pos.key(key)
				}
			}
		case "hostname":
			if s, ok := d.str(key, v); ok {
				if !validHostname(s) {
					d.fail(key, "", "%q is not a host name; expected 1 to 63 letters, digits and -, not starting or ending with -", s)
				} else {
					c.Hostname = s
				}
			}
		case "env":
			c.Env = d.envTable(key, v)
		case "env_file":
			if s, ok := d.nonEmpty(key, v); ok {
				c.EnvFile = s
			}
		case "mounts":
			c.Mounts = d.mounts("", key, v)
		case "volumes":
			c.Volumes = d.volumes("", key, v)
		case "roles":
			c.Roles = d.roles(key, v)
		default:
			d.unknownKey(key, topLevelKeys)
		}
	}
	if _, ok := doc["image"]; !ok {
		d.failAt(position{1, 1}, []string{"image"}, `e.g. image = "`+imageExampleRef+`"`, "missing: nook.toml must name a base image")
	}
	if c.Image == ImageHost {
		d.hostSteps(nil, doc)
	}
	project := target{path: workdir, desc: "the project directory (workdir)", isProject: true, key: []string{"workdir"}, pos: workdirAt}
	d.targets[""] = append([]target{project}, d.targets[""]...)
}

// failSpec reports a specError (or any error) about key, or about its
// element i when i >= 0.
func (d *decoder) failSpec(key []string, i int, err error) {
	hint := ""
	var se *specError
	if errors.As(err, &se) {
		hint = se.hint
	}
	if i >= 0 {
		d.failElem(key, i, hint, "%s", err.Error())
		return
	}
	d.fail(key, hint, "%s", err.Error())
}

// mounts decodes a mounts array declared by role ("" for the top level).
func (d *projectDecoder) mounts(role string, key []string, v any) []Mount {
	var out []Mount
	d.stringList(key, v, func(i int, s string) bool {
		m, err := parseMount(s)
		if err != nil {
			d.failSpec(key, i, err)
			return false
		}
		if d.home == "" && strings.HasPrefix(m.Source, "~") {
			d.failElem(key, i, "set $HOME, or write the path in full", "%q: cannot expand ~: the home directory is unknown", s)
			return false
		}
		out = append(out, m)
		d.targets[role] = append(d.targets[role], target{path: m.Target, desc: fmt.Sprintf("mount %q", s), key: key, pos: d.pos.elem(key, i)})
		return true
	})
	return out
}

// volumes decodes a volumes array declared by role ("" for the top level).
func (d *projectDecoder) volumes(role string, key []string, v any) []Volume {
	var out []Volume
	d.stringList(key, v, func(i int, s string) bool {
		vol, err := parseVolume(s)
		if err != nil {
			d.failSpec(key, i, err)
			return false
		}
		out = append(out, vol)
		d.targets[role] = append(d.targets[role], target{path: vol.Target, desc: fmt.Sprintf("volume %q", s), key: key, pos: d.pos.elem(key, i)})
		return true
	})
	return out
}

// readEnvFile reads c.EnvFile, reporting a missing file at the env_file key
// and a bad line at its own line of the env_file.
func (d *projectDecoder) readEnvFile(c *Config) {
	key := []string{"env_file"}
	name := c.EnvFile
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(c.File), name)
	}
	full := c.EnvFile
	if !filepath.IsAbs(full) {
		full = filepath.Join(c.ProjectDir, full)
	}
	data, err := readInput(name, full, false)
	var refused *Error
	if errors.As(err, &refused) {
		d.fail(key, refused.Fix, "cannot read %s: %s", name, refused.Msg)
		return
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		hint := ""
		if errors.Is(err, fs.ErrNotExist) {
			hint = "env_file is relative to the directory of nook.toml"
		}
		d.fail(key, hint, "cannot read %s: %v", name, err)
		return
	}
	vars, bad := parseEnvFile(string(data))
	for _, b := range bad {
		d.errs.add(&Error{File: name, Line: b.line, Col: b.col, Key: "env_file", Msg: b.msg, Fix: "each line is KEY=VALUE; # starts a comment"})
	}
	c.EnvFileVars = vars
}

// validPackage accepts what package managers take as a package, with an
// optional version or architecture, and rejects what could be read as an
// option or split by a shell.
func validPackage(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("\"'`$\\;&|(){}!#", r)
	})
}

// validHostname reports whether s is an RFC 1123 label.
func validHostname(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
