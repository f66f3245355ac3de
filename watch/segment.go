package watch

import (
	"errors"
	"unicode"
	"unicode/utf8"
)

// errBadClass is a `[` without its closing `]`.
var errBadClass = errors.New("unclosed [ in pattern")

// errTrailingEscape is a pattern ending in a lone backslash.
var errTrailingEscape = errors.New("pattern ends in a lone \\")

// checkSegment reports whether a one-segment wildcard pattern is well formed.
func checkSegment(p string) error {
	for i := 0; i < len(p); {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return errTrailingEscape
			}
			i += 2
		case '[':
			n, ok := classLen(p[i:])
			if !ok {
				return errBadClass
			}
			i += n
		default:
			i++
		}
	}
	return nil
}

// hasMeta reports whether p holds a character with a meaning in a pattern.
func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}

// matchSegment matches one path segment s against a checked one-segment
// pattern p: `*` any run of characters, `?` one character, `[…]` one
// character of a class (`[!…]` or `[^…]` negated, `a-z` ranges, `[:alpha:]`
// and the other POSIX classes), `\` quotes the next character.
func matchSegment(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += w
					continue
				}
			case '[':
				if sx < len(s) {
					r, w := utf8.DecodeRuneInString(s[sx:])
					if n, ok := matchClass(p[px:], r); ok {
						px += n
						sx += w
						continue
					}
				}
			case '\\':
				if sx < len(s) && px+1 < len(p) && p[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		// Mismatch: let the last star swallow one more character.
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		px, sx = starP+1, starS
	}
	return true
}

// classLen returns the length of the class starting at p[0] == '[', and
// whether it is closed.
func classLen(p string) (int, bool) {
	i := 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		i++
	}
	for first := true; i < len(p); first = false {
		switch {
		case p[i] == ']' && !first:
			return i + 1, true
		case p[i] == '\\':
			i += 2
		case p[i] == '[' && i+1 < len(p) && p[i+1] == ':':
			if end := posixClassEnd(p[i:]); end > 0 {
				i += end
				continue
			}
			i++
		default:
			i++
		}
	}
	return 0, false
}

// matchClass matches rune r against the class at the start of p and returns
// the class's length; p is checked.
func matchClass(p string, r rune) (int, bool) {
	i := 1
	negate := false
	if p[i] == '!' || p[i] == '^' {
		negate = true
		i++
	}
	matched := false
	for first := true; ; first = false {
		if p[i] == ']' && !first {
			i++
			break
		}
		if p[i] == '[' && i+1 < len(p) && p[i+1] == ':' {
			if end := posixClassEnd(p[i:]); end > 0 {
				if posixClass(p[i+2:i+end-2], r) {
					matched = true
				}
				i += end
				continue
			}
		}
		lo, w := classChar(p[i:])
		i += w
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi, w = classChar(p[i+1:])
			i += 1 + w
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	return i, matched != negate
}

// classChar decodes one possibly quoted character of a class.
func classChar(p string) (rune, int) {
	if p[0] == '\\' && len(p) > 1 {
		r, w := utf8.DecodeRuneInString(p[1:])
		return r, w + 1
	}
	return utf8.DecodeRuneInString(p)
}

// posixClassEnd returns the length of "[:name:]" at the start of p, or 0.
func posixClassEnd(p string) int {
	for i := 2; i+1 < len(p); i++ {
		if p[i] == ':' && p[i+1] == ']' {
			if _, ok := posixClasses[p[2:i]]; ok {
				return i + 2
			}
			return 0
		}
		if p[i] < 'a' || p[i] > 'z' {
			return 0
		}
	}
	return 0
}

// posixClasses are the character classes git's wildmatch knows.
var posixClasses = map[string]func(rune) bool{
	"alnum":  func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) },
	"alpha":  unicode.IsLetter,
	"blank":  func(r rune) bool { return r == ' ' || r == '\t' },
	"cntrl":  unicode.IsControl,
	"digit":  unicode.IsDigit,
	"graph":  func(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) },
	"lower":  unicode.IsLower,
	"print":  unicode.IsPrint,
	"punct":  unicode.IsPunct,
	"space":  unicode.IsSpace,
	"upper":  unicode.IsUpper,
	"xdigit": func(r rune) bool { return unicode.Is(unicode.ASCII_Hex_Digit, r) },
}

func posixClass(name string, r rune) bool { return posixClasses[name](r) }
