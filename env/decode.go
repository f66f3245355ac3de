package env

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nookenv/nook/templates"
)

// decoder walks a parsed TOML document against nook's schema, collecting
// every problem with its position instead of stopping at the first.
type decoder struct {
	file string
	pos  *positions
	errs *errorList
}

// failAt records a problem at pos about key.
func (d *decoder) failAt(pos position, key []string, hint, format string, args ...any) {
	d.errs.add(&Error{File: d.file, Line: pos.Line, Col: pos.Col, Key: keyString(key), Msg: fmt.Sprintf(format, args...), Fix: hint})
}

// fail records a problem with the value of key, at the key.
func (d *decoder) fail(key []string, hint, format string, args ...any) {
	d.failAt(d.pos.key(key), key, hint, format, args...)
}

// failElem records a problem with element i of the array at key.
func (d *decoder) failElem(key []string, i int, hint, format string, args ...any) {
	d.failAt(d.pos.elem(key, i), key, hint, format, args...)
}

// keyString writes a key path the way TOML would, quoting segments that are
// not bare keys.
func keyString(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = k
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r > 0x7f || !isBareKeyByte(byte(r)) }) >= 0 {
			parts[i] = templates.Quote(k)
		}
	}
	return strings.Join(parts, ".")
}

// child returns key extended by one segment, never sharing key's array.
func child(key []string, seg string) []string {
	return append(slices.Clip(key), seg)
}

// typeName names the TOML type of v with its article, for messages.
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a datetime"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// sortedKeys returns a table's keys in order, so problems are found in a
// stable order.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// table checks that v is a table whose keys are all in allowed, reporting
// every other key with the list of allowed ones.
func (d *decoder) table(key []string, v any, allowed []string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "", "expected a table, found %s", typeName(v))
		return nil, false
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			d.unknownKey(child(key, k), allowed)
		}
	}
	return m, true
}

// unknownKey reports a key the schema does not have.
func (d *decoder) unknownKey(key []string, allowed []string) {
	name := key[len(key)-1]
	hint := ""
	if near := nearest(name, allowed); near != "" {
		hint = fmt.Sprintf("did you mean %q?", near)
	}
	d.fail(key, hint, "unknown key %q; allowed keys are %s", name, strings.Join(allowed, ", "))
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo.
func nearest(s string, candidates []string) string {
	best, bestDist := "", len(s)/2+1
	for _, c := range candidates {
		if dist := editDistance(strings.ToLower(s), c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str checks that v is a string.
func (d *decoder) str(key []string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(key, "", "expected a string, found %s", typeName(v))
	}
	return s, ok
}

// nonEmpty checks that v is a string with something in it.
func (d *decoder) nonEmpty(key []string, v any) (string, bool) {
	s, ok := d.str(key, v)
	if ok && strings.TrimSpace(s) == "" {
		d.fail(key, "", "must not be empty")
		return "", false
	}
	return s, ok
}

// boolean checks that v is a boolean.
func (d *decoder) boolean(key []string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.fail(key, "", "expected a boolean (true or false), found %s", typeName(v))
	}
	return b, ok
}

// array checks that v is an array.
func (d *decoder) array(key []string, v any, of string) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		d.fail(key, "", "expected an array of %s, found %s", of, typeName(v))
	}
	return a, ok
}

// stringList checks that v is an array of strings and passes each element to
// check (which may be nil), keeping the ones check accepts.
func (d *decoder) stringList(key []string, v any, check func(i int, s string) bool) []string {
	a, ok := d.array(key, v, "strings")
	if !ok {
		return nil
	}
	out := make([]string, 0, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			d.failElem(key, i, "", "expected an array of strings; element %d is %s", i+1, typeName(e))
			continue
		}
		if check == nil || check(i, s) {
			out = append(out, s)
		}
	}
	return out
}

// port checks that v is a port number: an integer, or a string that holds
// one (so that it can be interpolated: port = "${PORT:-8080}").
func (d *decoder) port(key []string, v any) (uint16, bool) {
	n, ok := v.(int64)
	if s, isString := v.(string); isString {
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			d.fail(key, "", "%q is not a port number", s)
			return 0, false
		}
		ok = true
	}
	if !ok {
		d.fail(key, "", "expected a port number, found %s", typeName(v))
		return 0, false
	}
	if n < 1 || n > 65535 {
		d.fail(key, "", "%d is not a port; expected 1 to 65535", n)
		return 0, false
	}
	return uint16(n), true
}

// envTable decodes an env table: values may be strings, integers, floats or
// booleans and become strings.
func (d *decoder) envTable(key []string, v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, `write it as a table, e.g. env = { NAME = "value" }`, "expected a table, found %s", typeName(v))
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		k2 := child(key, k)
		if !validEnvName(k) {
			d.fail(k2, "", "%q is not an environment variable name; expected letters, digits, _, . and -, not starting with a digit, . or -", k)
			continue
		}
		var s string
		switch v := m[k].(type) {
		case string:
			s = v
		case int64:
			s = strconv.FormatInt(v, 10)
		case float64:
			s = formatFloat(v)
		case bool:
			s = strconv.FormatBool(v)
		default:
			d.fail(k2, "", "expected a string, integer, float or boolean, found %s", typeName(v))
			continue
		}
		if strings.ContainsRune(s, 0) {
			d.fail(k2, "", "the value must not contain a NUL character")
			continue
		}
		out[k] = s
	}
	return out
}

// formatFloat writes f the way TOML would read it back.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// validEnvName reports whether s can name an environment variable: letters,
// digits, _ and (for Java-style names) . and -, not starting with a digit.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isBareKeyByte(c) && c != '.' {
			return false
		}
	}
	return true
}
