package env

import "strings"

// Names nook.toml gives are checked by hand rather than with regular
// expressions: those would be compiled at every start of nook, which
// checks nook.toml at every command.

// isRoleName reports whether s is a role name: lowercase letters, digits,
// _ and -, starting with a letter or digit.
func isRoleName(s string) bool { return isWord(s, lowerOrDigit, roleByte) }

// isVolumeName reports whether s is a volume name: letters, digits, _, .
// and -, starting with a letter or digit.
func isVolumeName(s string) bool { return isWord(s, letterOrDigit, nameByte) }

// isUserName reports whether s is a role's user: a name or id (letters,
// digits, _, . and -, not starting with . or -), optionally :group, the
// same.
func isUserName(s string) bool {
	user, group, hasGroup := strings.Cut(s, ":")
	first := func(c byte) bool { return letterOrDigit(c) || c == '_' }
	return isWord(user, first, nameByte) && (!hasGroup || isWord(group, first, nameByte))
}

// isWord reports whether s is one byte for which first holds, then any
// number for which rest holds.
func isWord(s string, first, rest func(byte) bool) bool {
	if s == "" || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !rest(s[i]) {
			return false
		}
	}
	return true
}

func lowerOrDigit(c byte) bool  { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
func letterOrDigit(c byte) bool { return lowerOrDigit(c) || 'A' <= c && c <= 'Z' }
func roleByte(c byte) bool      { return lowerOrDigit(c) || c == '_' || c == '-' }
func nameByte(c byte) bool      { return letterOrDigit(c) || c == '_' || c == '.' || c == '-' }
