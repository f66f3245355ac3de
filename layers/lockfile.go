package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/nookenv/nook/internal/safefile"
)

// LockVersion is the newest nook.lock format: version 3 holds the roles'
// own environments. nook reads it and every older one (minLockVersion on)
// and writes the oldest that holds the lock (Lock.FormatVersion), so that
// a project without role images keeps a lock older nooks read.
const LockVersion = 3

// lockVersionWithoutRoles is the format of a lock without role entries:
// version 2 pins every installed package.
const lockVersionWithoutRoles = 2

// minLockVersion is the oldest nook.lock format this nook reads: version 1
// pinned the declared packages only, not what they pulled in.
const minLockVersion = 1

// lockHeader opens every nook.lock.
const lockHeader = "# nook.lock — written by `nook build`; commit it. `nook build --update` rewrites it.\n"

// Lock is nook.lock: for each environment of the project, per platform,
// the image digest a tag resolved to and the exact version of every
// package the packages step installed, so that a build elsewhere makes
// the same environments.
type Lock struct {
	Version   int
	Platforms map[string]*EnvLock // the project's environment, by platform: "linux/amd64"
	// Roles are the roles' own environments ([roles.NAME.platforms.P]):
	// by role, then by platform.
	Roles map[string]map[string]*EnvLock
}

// Entry is the entry of environment env ("" for the project's, else a
// role's name) on platform; nil when the lock (which may be nil) has none.
func (l *Lock) Entry(env, platform string) *EnvLock {
	if l == nil {
		return nil
	}
	if env == "" {
		return l.Platforms[platform]
	}
	return l.Roles[env][platform]
}

// With returns a copy of l (nil: an empty lock) with the entry of
// environment env on platform set to e — or removed, when e is nil — and
// whether that changed it. l itself is never changed.
func (l *Lock) With(env, platform string, e *EnvLock) (*Lock, bool) {
	out := &Lock{Version: LockVersion, Platforms: map[string]*EnvLock{}}
	if l != nil {
		maps.Copy(out.Platforms, l.Platforms)
		for r, ps := range l.Roles {
			if out.Roles == nil {
				out.Roles = map[string]map[string]*EnvLock{}
			}
			out.Roles[r] = maps.Clone(ps)
		}
	}
	old := l.Entry(env, platform)
	ps := out.Platforms
	if env != "" {
		if out.Roles == nil {
			out.Roles = map[string]map[string]*EnvLock{}
		}
		if ps = out.Roles[env]; ps == nil {
			ps = map[string]*EnvLock{}
			out.Roles[env] = ps
		}
	}
	if e == nil {
		delete(ps, platform)
		if env != "" && len(ps) == 0 {
			delete(out.Roles, env)
		}
		return out, old != nil
	}
	ps[platform] = e
	return out, l == nil || !old.Equal(e)
}

// WithoutRoles returns a copy of l without the entries of roles keep does
// not accept (roles that no longer have an image of their own), and
// whether there were any.
func (l *Lock) WithoutRoles(keep func(role string) bool) (*Lock, bool) {
	out, changed := l, false
	for _, r := range sortedKeys(l.Roles) {
		if keep(r) {
			continue
		}
		for _, p := range sortedKeys(l.Roles[r]) {
			out, _ = out.With(r, p, nil)
		}
		changed = true
	}
	return out, changed
}

// each calls fn with every entry: the project's environment's ("" as
// role), then each role's.
func (l *Lock) each(fn func(role, platform string, e *EnvLock)) {
	for _, p := range sortedKeys(l.Platforms) {
		fn("", p, l.Platforms[p])
	}
	for _, r := range sortedKeys(l.Roles) {
		for _, p := range sortedKeys(l.Roles[r]) {
			fn(r, p, l.Roles[r][p])
		}
	}
}

// FormatVersion is the version l is written in: the oldest that holds it.
func (l *Lock) FormatVersion() int {
	if len(l.Roles) > 0 {
		return LockVersion
	}
	return lockVersionWithoutRoles
}

// EnvLock pins one environment on one platform: a table of nook.lock,
// read and written on its own (decodeEnv, encode), so that a lock can hold
// several.
type EnvLock struct {
	Image   string // the image as nook.toml names it
	Digest  string // the manifest digest it resolved to ("sha256:…")
	Manager string // the package manager: "apt-get", "apk", …
	// Declared are the packages nook.toml declares, sorted. It is nil in
	// an entry an older nook wrote (nook.lock version 1), whose Packages
	// are the declared packages alone.
	Declared []string
	// Packages maps every package the packages step installed — the
	// declared ones and what they pulled in — to its version.
	Packages map[string]string
}

// Complete reports whether Packages are all the step installed (the
// entry names its declared packages), not the declared ones alone.
func (e *EnvLock) Complete() bool { return e.Declared != nil }

// Equal reports whether e and o pin the same.
func (e *EnvLock) Equal(o *EnvLock) bool {
	return e != nil && o != nil && e.Image == o.Image && e.Digest == o.Digest && e.Manager == o.Manager &&
		(e.Declared == nil) == (o.Declared == nil) && slices.Equal(e.Declared, o.Declared) && maps.Equal(e.Packages, o.Packages)
}

// LockError is a nook.lock that cannot be read: its file and line.
type LockError struct {
	File string
	Line int // 0 when the whole file is at fault
	Col  int // 0 when only the line is known
	Msg  string
}

// Error is FILE[:LINE[:COL]]: MSG.
func (e *LockError) Error() string {
	switch {
	case e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Hint says how to fix it.
func (e *LockError) Hint() string {
	return "nook.lock is written by nook: fix the line, or delete the file (or run `nook build --update`) to write it afresh"
}

// ReadLock reads the nook.lock at path. A missing file is (nil, nil). A file
// that does not parse, or holds what no nook.lock holds, is a *LockError
// naming file:line. A cloned project's nook.lock is untrusted input: it
// must be a regular file of at most safefile.MaxInput bytes that nests no
// deeper than safefile.MaxNesting, checked before the TOML parser sees it.
func ReadLock(path string) (*Lock, error) {
	data, err := safefile.ReadInput(path)
	var bad *safefile.InputError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.As(err, &bad):
		return nil, &LockError{File: path, Msg: bad.Problem}
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var deep *safefile.NestingError
	if errors.As(safefile.CheckTOML(data), &deep) {
		return nil, &LockError{File: path, Line: deep.Line, Col: deep.Col, Msg: deep.Error()}
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &LockError{File: path, Line: pe.Position.Line, Msg: pe.Message}
		}
		return nil, &LockError{File: path, Msg: err.Error()}
	}
	d := lockDecoder{file: path, src: string(data)}
	return d.lock(raw)
}

// lockDecoder checks a decoded nook.lock, naming the line of what is wrong.
type lockDecoder struct {
	file string
	src  string // the file's text, for keyLines once an error needs a line
}

func (d *lockDecoder) errorf(key []string, format string, args ...any) error {
	// Found only for an error: a lock of a hundred packages would cost a
	// millisecond on every run otherwise.
	return &LockError{File: d.file, Line: keyLines(d.src)[keyPath(key)], Msg: fmt.Sprintf(format, args...)}
}

func (d *lockDecoder) lock(raw map[string]any) (*Lock, error) {
	l := &Lock{Platforms: map[string]*EnvLock{}}
	for _, k := range sortedKeys(raw) {
		switch k {
		case "version":
			v, ok := raw[k].(int64)
			if !ok {
				return nil, d.errorf([]string{k}, "version must be a number")
			}
			if v < minLockVersion || v > LockVersion {
				return nil, d.errorf([]string{k}, "version %d is not one this nook reads (it reads %d to %d): a newer nook wrote it", v, minLockVersion, LockVersion)
			}
			l.Version = int(v)
		case "platforms":
			ps, err := d.platforms([]string{k}, raw[k])
			if err != nil {
				return nil, err
			}
			l.Platforms = ps
		case "roles":
			roles, ok := raw[k].(map[string]any)
			if !ok {
				return nil, d.errorf([]string{k}, "roles must be a table")
			}
			l.Roles = map[string]map[string]*EnvLock{}
			for _, r := range sortedKeys(roles) {
				t, ok := roles[r].(map[string]any)
				if !ok {
					return nil, d.errorf([]string{k, r}, "role %q must be a table", r)
				}
				for _, rk := range sortedKeys(t) {
					if rk != "platforms" {
						return nil, d.errorf([]string{k, r, rk}, "unknown key %q", rk)
					}
				}
				ps, err := d.platforms([]string{k, r, "platforms"}, t["platforms"])
				if err != nil {
					return nil, err
				}
				l.Roles[r] = ps
			}
		default:
			return nil, d.errorf([]string{k}, "unknown key %q", k)
		}
	}
	if l.Version == 0 {
		return nil, &LockError{File: d.file, Line: 1, Msg: "no version: this is not a nook.lock nook wrote"}
	}
	return l, nil
}

// platforms decodes a table of environment entries by platform at key.
func (d *lockDecoder) platforms(key []string, v any) (map[string]*EnvLock, error) {
	ps, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf(key, "%s must be a table", key[len(key)-1])
	}
	out := make(map[string]*EnvLock, len(ps))
	for _, p := range sortedKeys(ps) {
		pl, err := d.env(append(slices.Clone(key), p), ps[p])
		if err != nil {
			return nil, err
		}
		out[p] = pl
	}
	return out, nil
}

// env decodes the environment entry at key.
func (d *lockDecoder) env(key []string, v any) (*EnvLock, error) {
	t, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf(key, "platform %q must be a table", key[len(key)-1])
	}
	p := &EnvLock{Packages: map[string]string{}}
	for _, k := range sortedKeys(t) {
		at := append(slices.Clone(key), k)
		switch k {
		case "image", "digest", "manager":
			s, ok := t[k].(string)
			if !ok {
				return nil, d.errorf(at, "%s must be a string", k)
			}
			switch k {
			case "image":
				p.Image = s
			case "digest":
				if _, err := digestHex(s); err != nil {
					return nil, d.errorf(at, "%v", err)
				}
				p.Digest = s
			case "manager":
				p.Manager = s
			}
		case "declared":
			names, ok := t[k].([]any)
			if !ok {
				return nil, d.errorf(at, "declared must be a list of package names")
			}
			p.Declared = make([]string, 0, len(names))
			for _, n := range names {
				s, ok := n.(string)
				if !ok || s == "" {
					return nil, d.errorf(at, "declared must be a list of package names")
				}
				p.Declared = append(p.Declared, s)
			}
			slices.Sort(p.Declared)
			p.Declared = slices.Compact(p.Declared)
		case "packages":
			pk, ok := t[k].(map[string]any)
			if !ok {
				return nil, d.errorf(at, "packages must be a table of name = \"version\"")
			}
			for _, name := range sortedKeys(pk) {
				ver, ok := pk[name].(string)
				if !ok {
					return nil, d.errorf(append(slices.Clone(at), name), "the version of package %q must be a string", name)
				}
				p.Packages[name] = ver
			}
		default:
			return nil, d.errorf(at, "unknown key %q", k)
		}
	}
	if p.Digest == "" {
		return nil, d.errorf(key, "platform %q has no digest", key[len(key)-1])
	}
	for _, n := range p.Declared {
		if p.Packages[n] == "" {
			return nil, d.errorf(append(slices.Clone(key), "declared"), "declared package %q has no version under packages", n)
		}
	}
	return p, nil
}

// Write writes the lock to path atomically (a temporary file beside it,
// synced, renamed over it), in format FormatVersion. Identical content
// gives byte-identical files: roles, platforms and packages are sorted.
func (l *Lock) Write(path string) error {
	if err := writeFileAtomic(path, l.Encode(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Encode returns the lock as nook.lock's TOML, in a stable order.
func (l *Lock) Encode() []byte {
	var b strings.Builder
	b.WriteString(lockHeader)
	fmt.Fprintf(&b, "version = %d\n", l.FormatVersion())
	l.each(func(role, platform string, e *EnvLock) {
		table := "platforms." + tomlKey(platform)
		if role != "" {
			table = "roles." + tomlKey(role) + "." + table
		}
		if e != nil {
			e.encode(&b, table)
		}
	})
	return []byte(b.String())
}

// encode writes e as the TOML table named table (a dotted key), in a
// stable order.
func (e *EnvLock) encode(b *strings.Builder, table string) {
	fmt.Fprintf(b, "\n[%s]\n", table)
	fmt.Fprintf(b, "image = %s\n", tomlString(e.Image))
	fmt.Fprintf(b, "digest = %s\n", tomlString(e.Digest))
	if e.Manager != "" {
		fmt.Fprintf(b, "manager = %s\n", tomlString(e.Manager))
	}
	if e.Declared != nil {
		names := slices.Compact(slices.Sorted(slices.Values(e.Declared)))
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = tomlString(n)
		}
		fmt.Fprintf(b, "declared = [%s]\n", strings.Join(quoted, ", "))
	}
	if len(e.Packages) > 0 {
		fmt.Fprintf(b, "\n[%s.packages]\n", table)
		for _, name := range sortedKeys(e.Packages) {
			fmt.Fprintf(b, "%s = %s\n", tomlKey(name), tomlString(e.Packages[name]))
		}
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tomlKey writes k as a bare key when TOML allows, else quoted.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return tomlString(k)
		}
	}
	return k
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// keyLines maps each key and table header of a TOML document to its line,
// by dotted path with each part quoted as by keyPath. Each line is parsed on
// its own: lines that are not a complete key = value or header (the middle
// of a multi-line value) are skipped, which is fine for nook.lock.
func keyLines(src string) map[string]int {
	lines := map[string]int{}
	var table []string
	for i, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		var v map[string]any
		md, err := toml.Decode(t, &v)
		if err != nil {
			continue
		}
		keys := md.Keys()
		if len(keys) == 0 {
			continue
		}
		if strings.HasPrefix(t, "[") {
			table = keys[len(keys)-1]
			if _, ok := lines[keyPath(table)]; !ok {
				lines[keyPath(table)] = i + 1
			}
			continue
		}
		// A dotted key lists its prefixes first; the last is the full key.
		full := append(slices.Clone(table), keys[len(keys)-1]...)
		lines[keyPath(full)] = i + 1
	}
	return lines
}

// keyPath joins a key path unambiguously.
func keyPath(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = tomlString(k)
	}
	return strings.Join(parts, ".")
}
