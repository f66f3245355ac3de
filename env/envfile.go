package env

import (
	"fmt"
	"strings"
)

// envFileError is a bad line of an env_file.
type envFileError struct {
	line, col int
	msg       string
}

// parseEnvFile reads KEY=VALUE lines: blank lines and lines starting with #
// are skipped, a line may start with "export ", and a value may be single-
// quoted (taken literally) or double-quoted (with \n, \t, \r, \", \\ and \$
// escapes). An unquoted value ends at a # that follows whitespace and loses
// its surrounding whitespace. A later line wins over an earlier one.
func parseEnvFile(data string) (map[string]string, []envFileError) {
	vars := map[string]string{}
	var errs []envFileError
	for n, line := range strings.Split(data, "\n") {
		line = strings.TrimSuffix(line, "\r")
		key, value, col, msg := parseEnvLine(line)
		switch {
		case msg != "":
			errs = append(errs, envFileError{line: n + 1, col: col, msg: msg})
		case key != "":
			vars[key] = value
		}
	}
	return vars, errs
}

// parseEnvLine parses one line. It returns an empty key for a blank or
// comment line, and a message with its column for a bad one.
func parseEnvLine(line string) (key, value string, col int, msg string) {
	i := len(line) - len(strings.TrimLeft(line, " \t"))
	rest := line[i:]
	if rest == "" || rest[0] == '#' {
		return "", "", 0, ""
	}
	if after, ok := strings.CutPrefix(rest, "export"); ok && after != "" && (after[0] == ' ' || after[0] == '\t') {
		trimmed := strings.TrimLeft(after, " \t")
		i += len(rest) - len(trimmed)
		rest = trimmed
	}
	eq := strings.IndexByte(rest, '=')
	if eq < 0 {
		return "", "", i + 1, fmt.Sprintf("%q is not KEY=VALUE", strings.TrimSpace(line))
	}
	key = strings.TrimRight(rest[:eq], " \t")
	if !validEnvName(key) {
		return "", "", i + 1, fmt.Sprintf("%q is not an environment variable name", key)
	}
	vstart := i + eq + 1
	raw := rest[eq+1:]
	lead := len(raw) - len(strings.TrimLeft(raw, " \t"))
	raw, vstart = raw[lead:], vstart+lead
	if raw == "" {
		return key, "", 0, ""
	}
	switch raw[0] {
	case '\'', '"':
		value, end, ok := unquoteEnv(raw)
		if !ok {
			return "", "", vstart + 1, fmt.Sprintf("the value of %s has no closing %c", key, raw[0])
		}
		if tail := strings.TrimLeft(raw[end:], " \t"); tail != "" && tail[0] != '#' {
			return "", "", vstart + 1 + len(raw) - len(tail), fmt.Sprintf("unexpected %q after the quoted value of %s", tail, key)
		}
		return key, value, 0, ""
	}
	for j := 1; j < len(raw); j++ {
		if raw[j] == '#' && (raw[j-1] == ' ' || raw[j-1] == '\t') {
			raw = raw[:j]
			break
		}
	}
	return key, strings.TrimRight(raw, " \t"), 0, ""
}

// unquoteEnv reads the quoted value at the start of s and returns it with
// the index just past its closing quote.
func unquoteEnv(s string) (string, int, bool) {
	quote := s[0]
	if quote == '\'' {
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", 0, false
		}
		return s[1 : end+1], end + 2, true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), i + 1, true
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"', '\\', '$':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}
