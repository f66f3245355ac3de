package safefile

import "fmt"

// MaxNesting bounds how deep TOML text may nest: the components of a
// table header, of a dotted key, and the arrays and inline tables around
// a value, counted together (the length of the longest key path of the
// decoded document). nook.toml needs about 5; a TOML parser takes time
// and memory that grow faster than the depth (50,000 nested inline tables
// exhaust memory, 2,000 dotted key components take a second).
const MaxNesting = 32

// NestingError is TOML that nests deeper than MaxNesting, at a 1-based
// line and byte column.
type NestingError struct {
	Line, Col int
}

// Error says what is wrong; the caller adds the file and position.
func (e *NestingError) Error() string {
	return fmt.Sprintf("nested more than %d levels deep (tables, dotted keys, arrays and inline tables together)", MaxNesting)
}

// CheckTOML scans TOML text for nesting deeper than MaxNesting before a
// parser sees it, in one pass and constant memory. It knows TOML's
// strings, comments, keys and values well enough never to count less
// than a parser nests; it does not validate, and leaves syntax errors to
// the parser.
func CheckTOML(data []byte) error {
	_, err := tomlDepth(data, MaxNesting)
	return err
}

// tomlDepth returns the deepest nesting of data, or a *NestingError at the
// first place that nests deeper than limit.
func tomlDepth(data []byte, limit int) (int, error) {
	s := depthScanner{data: data, limit: limit, line: 1}
	s.startKey()
	for ; s.i < len(data); s.i++ {
		if err := s.step(); err != nil {
			return s.max, err
		}
	}
	return s.max, nil
}

// depthScanner is tomlDepth's state.
type depthScanner struct {
	data      []byte
	limit     int
	i         int
	line      int
	lineStart int

	mode   int     // what is being read: inKey, inValue or inHeader
	depth  int     // the depth of the key or value being read
	base   int     // the depth of the last table header's table
	frames []frame // the open arrays and inline tables, innermost last
	max    int
}

const (
	inKey = iota
	inValue
	inHeader
)

// frame is an open array or inline table; depth is that of its members.
type frame struct {
	depth int
	table bool
}

// container is the depth of the innermost table or array's members.
func (s *depthScanner) container() int {
	if len(s.frames) == 0 {
		return s.base
	}
	return s.frames[len(s.frames)-1].depth
}

// startKey expects a key in the innermost table.
func (s *depthScanner) startKey() {
	s.mode, s.depth = inKey, s.container()+1
}

// deeper records depth d at the current byte, failing beyond the limit.
func (s *depthScanner) deeper(d int) error {
	if d > s.limit {
		return &NestingError{Line: s.line, Col: s.i - s.lineStart + 1}
	}
	s.max = max(s.max, d)
	return nil
}

// step reads data[s.i] (and, for strings and comments, what follows).
func (s *depthScanner) step() error {
	switch c := s.data[s.i]; c {
	case '\n':
		s.newline(s.i)
		if len(s.frames) == 0 {
			s.startKey()
		}
	case '#':
		for s.i+1 < len(s.data) && s.data[s.i+1] != '\n' {
			s.i++
		}
	case '"', '\'':
		s.skipString(c)
	case '.':
		if s.mode != inValue {
			s.depth++
			return s.deeper(s.depth)
		}
	case '=':
		if s.mode == inKey {
			s.mode = inValue
			return s.deeper(s.depth)
		}
	case '[':
		if s.mode == inKey && len(s.frames) == 0 {
			// A table header, [a.b], or an array of tables, [[a.b]],
			// whose elements are one level deeper.
			s.mode, s.depth = inHeader, 1
			if s.i+1 < len(s.data) && s.data[s.i+1] == '[' {
				s.i++
				s.depth++
			}
			return s.deeper(s.depth)
		}
		if s.mode == inValue && len(s.frames) > 0 && !s.frames[len(s.frames)-1].table {
			s.depth = s.container()
		}
		s.frames = append(s.frames, frame{depth: s.depth + 1})
		s.mode, s.depth = inValue, s.depth+1
		return s.deeper(s.depth)
	case '{':
		if s.mode == inValue && len(s.frames) > 0 && !s.frames[len(s.frames)-1].table {
			s.depth = s.container()
		}
		s.frames = append(s.frames, frame{depth: s.depth, table: true})
		s.startKey()
		return s.deeper(s.depth)
	case ']', '}':
		if s.mode == inHeader {
			if c == ']' && s.i+1 < len(s.data) && s.data[s.i+1] == ']' {
				s.i++
			}
			s.base = s.depth
			s.startKey()
			break
		}
		if n := len(s.frames); n > 0 {
			s.depth = s.frames[n-1].depth
			s.frames = s.frames[:n-1]
		}
		s.mode = inValue
	case ',':
		if n := len(s.frames); n > 0 && s.frames[n-1].table {
			s.startKey()
		} else if n > 0 {
			s.mode, s.depth = inValue, s.frames[n-1].depth
		}
	}
	return nil
}

// newline counts the newline at i.
func (s *depthScanner) newline(i int) {
	s.line++
	s.lineStart = i + 1
}

// skipString moves s.i to the closing quote of the string that starts
// there: basic ("…", with backslash escapes) or literal ('…'), on one
// line or, tripled, over several. A string without its end stops at the
// end of its line (one line) or of the text.
func (s *depthScanner) skipString(q byte) {
	d := s.data
	if s.i+2 < len(d) && d[s.i+1] == q && d[s.i+2] == q {
		for j := s.i + 3; j < len(d); j++ {
			switch {
			case d[j] == '\\' && q == '"':
				if j+1 < len(d) && d[j+1] == '\n' {
					s.newline(j + 1)
				}
				j++
			case d[j] == '\n':
				s.newline(j)
			case d[j] == q && j+2 < len(d) && d[j+1] == q && d[j+2] == q:
				// Up to two more quotes belong to the content: """a"""".
				j += 2
				for k := 0; k < 2 && j+1 < len(d) && d[j+1] == q; k++ {
					j++
				}
				s.i = j
				return
			}
		}
		s.i = len(d) - 1
		return
	}
	for j := s.i + 1; j < len(d); j++ {
		switch {
		case d[j] == '\\' && q == '"' && j+1 < len(d) && d[j+1] != '\n':
			j++
		case d[j] == q:
			s.i = j
			return
		case d[j] == '\n':
			s.i = j - 1
			return
		}
	}
	s.i = len(d) - 1
}
