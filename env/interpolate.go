package env

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Interpolation, as Compose does it (SPEC §2): in every string value of
// nook.toml, ${VAR} is VAR's value from the host's environment, else from
// the project's .env file, else empty (with a warning); ${VAR:-default}
// (default also when VAR is empty) and ${VAR-default} give a default,
// ${VAR:?message} and ${VAR?message} make an unset (or empty) VAR an
// error, ${VAR:+other} and ${VAR+other} give other when VAR is set, and
// $$ is a literal $. A $ before anything else stays as it is, so a role's
// shell still sees its own $1, $@ and $(…). It runs on the decoded values,
// before anything reads them: an interpolated setup step is a different
// step, with a cache key of its own.

// DotEnvFile is the file, in the project directory, whose variables
// interpolation takes after the host's environment.
const DotEnvFile = ".env"

// interpolation looks variables up: the host's environment first, then the
// project's .env, read once, when a variable is not in the environment.
type interpolation struct {
	lookupEnv func(string) (string, bool)
	dir       string // the project directory, where .env is

	read    bool
	dotEnv  map[string]string
	readErr error
	bad     []envFileError
}

func (in *interpolation) lookup(name string) (string, bool) {
	if v, ok := in.lookupEnv(name); ok {
		return v, true
	}
	if !in.read {
		in.read = true
		in.dotEnv, in.bad, in.readErr = readDotEnv(in.dir)
	}
	v, ok := in.dotEnv[name]
	return v, ok
}

// readDotEnv reads the .env file of the project directory dir; a missing
// one holds no variables.
func readDotEnv(dir string) (map[string]string, []envFileError, error) {
	path := filepath.Join(dir, DotEnvFile)
	data, err := readInput(path, path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	var refused *Error
	if errors.As(err, &refused) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s for interpolation: %w", filepath.Join(dir, DotEnvFile), err)
	}
	vars, bad := parseEnvFile(string(data))
	return vars, bad, nil
}

// interpolate replaces, in place, the interpolations in every string of
// doc, reporting a bad or required one at its key or array element and
// noting in warnings the variables that were unset.
func (d *projectDecoder) interpolate(doc map[string]any, in *interpolation) {
	var walk func(key []string, v any, set func(string), pos func() position)
	walk = func(key []string, v any, set func(string), pos func() position) {
		switch v := v.(type) {
		case string:
			if !strings.Contains(v, "$") {
				return
			}
			out, unset, err := expand(v, in.lookup)
			if err != nil {
				d.failAt(pos(), key, err.hint, "%s", err.msg)
				return
			}
			for _, name := range unset {
				p := pos()
				d.warnings = append(d.warnings, fmt.Sprintf("%s:%d:%d: %s: ${%s} is not set: it stands for an empty string",
					d.file, p.Line, p.Col, keyString(key), name))
			}
			set(out)
		case map[string]any:
			for _, k := range sortedKeys(v) {
				k2 := child(key, k)
				walk(k2, v[k], func(s string) { v[k] = s }, func() position { return d.pos.key(k2) })
			}
		case []any:
			for i := range v {
				walk(key, v[i], func(s string) { v[i] = s }, func() position { return d.pos.elem(key, i) })
			}
		case []map[string]any:
			for _, t := range v {
				walk(key, t, nil, pos)
			}
		}
	}
	walk(nil, doc, nil, func() position { return position{1, 1} })
	if in.readErr != nil {
		d.failAt(position{1, 1}, nil, "", "%v", in.readErr)
	}
	for _, b := range in.bad {
		d.errs.add(&Error{File: filepath.Join(filepath.Dir(d.file), DotEnvFile), Line: b.line, Col: b.col, Msg: b.msg,
			Fix: "each line is KEY=VALUE; # starts a comment (nook.toml's ${VAR} take their values from it)"})
	}
}

// interpolationError is a ${…} that cannot be expanded.
type interpolationError struct{ msg, hint string }

// expand expands the interpolations in s (see the top of this file) and
// lists the variables that were unset and had no default.
func expand(s string, lookup func(string) (string, bool)) (string, []string, *interpolationError) {
	var b strings.Builder
	var unset []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), unset, nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
			continue
		case '{':
		default:
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := closingBrace(s, i+2)
		if end < 0 {
			return "", nil, &interpolationError{msg: fmt.Sprintf("%q: ${ without a closing }", s[i:]),
				hint: "write ${VAR}, or $$ for a literal $"}
		}
		expr := s[i+2 : end]
		s = s[end+1:]
		name, op, arg := splitInterpolation(expr)
		if strings.Contains(arg, "$") {
			// A default or a message may itself hold ${…}.
			var inner []string
			var err *interpolationError
			if arg, inner, err = expand(arg, lookup); err != nil {
				return "", nil, err
			}
			if op != ":+" && op != "+" {
				unset = append(unset, inner...)
			}
		}
		if !validVarName(name) {
			return "", nil, &interpolationError{msg: fmt.Sprintf("${%s}: %q is not a variable name", expr, name),
				hint: "write ${VAR}, ${VAR:-default} or ${VAR:?message}; $$ is a literal $"}
		}
		value, set := lookup(name)
		empty := !set || (value == "" && strings.HasPrefix(op, ":"))
		switch op {
		case "":
			if !set {
				unset = append(unset, name)
			}
			b.WriteString(value)
		case ":-", "-":
			if empty {
				value = arg
			}
			b.WriteString(value)
		case ":+", "+":
			if !empty {
				b.WriteString(arg)
			}
		case ":?", "?":
			if empty {
				msg := fmt.Sprintf("required variable %s is not set", name)
				if set {
					msg = fmt.Sprintf("required variable %s is empty", name)
				}
				if arg != "" {
					msg += ": " + arg
				}
				return "", nil, &interpolationError{msg: msg,
					hint: fmt.Sprintf("set %s in your environment or in the project's %s", name, DotEnvFile)}
			}
			b.WriteString(value)
		default:
			return "", nil, &interpolationError{msg: fmt.Sprintf("${%s}: unknown operator %q", expr, op),
				hint: "write ${VAR}, ${VAR:-default} or ${VAR:?message}; $$ is a literal $"}
		}
	}
}

// closingBrace is the index of the } that closes the ${ whose inside
// starts at from, nested ${…} included; -1 when there is none.
func closingBrace(s string, from int) int {
	depth := 1
	for j := from; j < len(s); j++ {
		switch {
		case s[j] == '$' && j+1 < len(s) && s[j+1] == '{':
			depth++
			j++
		case s[j] == '}':
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// splitInterpolation splits the inside of ${…} into the variable's name,
// its operator (:-, -, :?, ?, :+, + or "") and the operator's argument.
func splitInterpolation(expr string) (name, op, arg string) {
	i := strings.IndexAny(expr, ":-?+")
	if i < 0 {
		return expr, "", ""
	}
	name, rest := expr[:i], expr[i:]
	n := 1
	if rest[0] == ':' {
		n = 2
		if len(rest) < 2 {
			return name, rest, ""
		}
	}
	return name, rest[:n], rest[n:]
}

// validVarName reports whether s names a variable: letters, digits and _,
// not starting with a digit.
func validVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
