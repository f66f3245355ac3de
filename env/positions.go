package env

import (
	"slices"
	"strconv"
	"strings"
)

// BurntSushi/toml keeps the positions of keys to itself, so nook finds them
// with this small scanner. It runs only on text the TOML parser has already
// accepted, so it can be lenient: it never fails, and on anything it does not
// understand it moves on. It records, for every dotted key path, where the
// key is written (the start of its dotted key, or of the table header that
// opened it) and, for every array element, where the element starts.

// position is a 1-based line and byte column.
type position struct {
	Line, Col int
}

// positions maps key paths and array elements to where they are written.
type positions struct {
	keys  map[string]position
	elems map[string]position
}

// pathID is the lookup form of a key path.
func pathID(key []string) string { return strings.Join(key, "\x00") }

// elemSeg is the path segment of an array element; no TOML key holds \x01
// unescaped in practice, and a clash would only cost a position.
func elemSeg(i int) string { return "\x01" + strconv.Itoa(i) }

// key returns where key is written, falling back to its nearest recorded
// parent and then to the top of the file.
func (p *positions) key(key []string) position {
	for n := len(key); n > 0; n-- {
		if pos, ok := p.keys[pathID(key[:n])]; ok {
			return pos
		}
	}
	return position{1, 1}
}

// elem returns where element i of the array at key should be reported: at
// the element itself when it sits on a line of its own, else at the key, so
// that a one-line array is reported where its key is written.
func (p *positions) elem(key []string, i int) position {
	k := p.key(key)
	if pos, ok := p.elems[pathID(append(slices.Clip(key), elemSeg(i)))]; ok && pos.Line != k.Line {
		return pos
	}
	return k
}

// scanPositions records the positions of every key and array element in src.
func scanPositions(src string) *positions {
	s := &scanner{src: src, line: 1, p: &positions{keys: map[string]position{}, elems: map[string]position{}}}
	if strings.HasPrefix(src, "\uFEFF") { // a byte order mark takes no column
		s.i, s.lineStart = 3, 3
	}
	var table []string
	arrayTables := map[string]int{}
	for {
		s.skipBlank()
		if s.eof() {
			return s.p
		}
		before := s.i
		switch {
		case strings.HasPrefix(src[s.i:], "[["):
			s.advance(2)
			s.skipSpace()
			start := s.pos()
			key := s.key()
			s.mark(key, start)
			id := pathID(key)
			table = append(key, elemSeg(arrayTables[id]))
			arrayTables[id]++
			s.skipLine()
		case src[s.i] == '[':
			s.advance(1)
			s.skipSpace()
			start := s.pos()
			table = s.key()
			s.mark(table, start)
			s.skipLine()
		default:
			if !s.keyValue(table) {
				s.skipLine()
				break
			}
		}
		if s.i == before {
			s.advance(1)
		}
	}
}

// scanner walks TOML text keeping track of line and column.
type scanner struct {
	src       string
	i         int
	line      int
	lineStart int
	p         *positions
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

func (s *scanner) pos() position { return position{s.line, s.i - s.lineStart + 1} }

func (s *scanner) advance(n int) {
	for ; n > 0 && !s.eof(); n-- {
		if s.src[s.i] == '\n' {
			s.line++
			s.lineStart = s.i + 1
		}
		s.i++
	}
}

// mark records start for key and for each of its parents not seen before.
func (s *scanner) mark(key []string, start position) {
	for n := 1; n <= len(key); n++ {
		id := pathID(key[:n])
		if _, ok := s.p.keys[id]; !ok {
			s.p.keys[id] = start
		}
	}
}

func (s *scanner) skipSpace() {
	for c := s.peek(); c == ' ' || c == '\t'; c = s.peek() {
		s.advance(1)
	}
}

// skipBlank skips whitespace, newlines and comments.
func (s *scanner) skipBlank() {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.advance(1)
		case '#':
			s.skipComment()
		default:
			return
		}
	}
}

func (s *scanner) skipComment() {
	for !s.eof() && s.peek() != '\n' {
		s.advance(1)
	}
}

// skipLine skips the rest of a header line (the closing brackets and a
// comment) without crossing into the next line.
func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		if c := s.peek(); c == '"' || c == '\'' {
			s.str()
			continue
		}
		s.advance(1)
	}
}

// key reads a dotted key, returning its unquoted segments.
func (s *scanner) key() []string {
	var segs []string
	for {
		s.skipSpace()
		seg, ok := s.keySegment()
		if !ok {
			return segs
		}
		segs = append(segs, seg)
		s.skipSpace()
		if s.peek() != '.' {
			return segs
		}
		s.advance(1)
	}
}

func (s *scanner) keySegment() (string, bool) {
	switch c := s.peek(); {
	case c == '"' || c == '\'':
		return s.str(), true
	case isBareKeyByte(c):
		start := s.i
		for isBareKeyByte(s.peek()) {
			s.advance(1)
		}
		return s.src[start:s.i], true
	}
	return "", false
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value skips one value, recording the positions inside arrays and inline
// tables under path.
func (s *scanner) value(path []string) {
	switch s.peek() {
	case '"', '\'':
		s.str()
	case '[':
		s.array(path)
	case '{':
		s.inlineTable(path)
	default:
		for !s.eof() && !strings.ContainsRune(",]}#\r\n", rune(s.peek())) {
			s.advance(1)
		}
	}
}

func (s *scanner) array(path []string) {
	s.advance(1) // [
	for i := 0; ; {
		s.skipBlank()
		switch s.peek() {
		case 0:
			return
		case ']':
			s.advance(1)
			return
		case ',':
			s.advance(1)
			continue
		}
		before := s.i
		elem := slices.Concat(path, []string{elemSeg(i)})
		s.p.elems[pathID(elem)] = s.pos()
		s.value(elem)
		i++
		if s.i == before {
			s.advance(1)
		}
	}
}

func (s *scanner) inlineTable(path []string) {
	s.advance(1) // {
	for {
		s.skipBlank()
		switch s.peek() {
		case 0:
			return
		case '}':
			s.advance(1)
			return
		case ',':
			s.advance(1)
			continue
		}
		before := s.i
		s.keyValue(path)
		if s.i == before {
			s.advance(1)
		}
	}
}

// str reads a basic or literal string, single- or multi-line, and returns
// its value (escapes decoded for basic strings; only needed for keys).
func (s *scanner) str() string {
	quote := s.peek()
	if strings.HasPrefix(s.src[s.i:], strings.Repeat(string(quote), 3)) {
		s.advance(3)
		start := s.i
		for !s.eof() {
			if quote == '"' && s.peek() == '\\' {
				s.advance(2)
				continue
			}
			if strings.HasPrefix(s.src[s.i:], strings.Repeat(string(quote), 3)) {
				end := s.i
				// Up to two quotes may end the content: """a"""""
				for n := 0; n < 5 && s.peek() == quote; n++ {
					s.advance(1)
				}
				return s.src[start:end]
			}
			s.advance(1)
		}
		return s.src[start:]
	}
	s.advance(1)
	var b strings.Builder
	for !s.eof() {
		c := s.peek()
		switch {
		case c == quote:
			s.advance(1)
			return b.String()
		case c == '\n':
			return b.String()
		case c == '\\' && quote == '"':
			s.escape(&b)
		default:
			b.WriteByte(c)
			s.advance(1)
		}
	}
	return b.String()
}

// escape decodes one escape sequence of a basic string into b.
func (s *scanner) escape(b *strings.Builder) {
	s.advance(1) // backslash
	c := s.peek()
	s.advance(1)
	simple := map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\'}
	if r, ok := simple[c]; ok {
		b.WriteByte(r)
		return
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 || s.i+digits > len(s.src) {
		return
	}
	n, err := strconv.ParseUint(s.src[s.i:s.i+digits], 16, 32)
	s.advance(digits)
	if err == nil {
		b.WriteRune(rune(n))
	}
}

// keyValue reads `key = value` with key under prefix, marking the key's
// position; it reports whether there was a key to read.
func (s *scanner) keyValue(prefix []string) bool {
	start := s.pos()
	key := s.key()
	if len(key) == 0 {
		return false
	}
	full := slices.Concat(prefix, key)
	s.mark(full, start)
	s.skipSpace()
	if s.peek() == '=' {
		s.advance(1)
		s.skipSpace()
		s.value(full)
	}
	return true
}
