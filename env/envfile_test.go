package env

import (
	"reflect"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	src := "# a comment\n" +
		"\n" +
		"PLAIN=value\n" +
		"  SPACED = padded value  \n" +
		"export EXPORTED=1\n" +
		"export\tTABBED=2\n" +
		"EMPTY=\n" +
		"INLINE=a # comment\n" +
		"HASH=a#b\n" +
		"DOUBLE=\"x \\\"y\\\" \\\\ \\$z\\n\" # after\n" +
		"SINGLE='no \\n escapes # here'\n" +
		"EQUALS=a=b=c\n" +
		"CRLF=yes\r\n" +
		"java.home-dir=/opt\n" +
		"PLAIN=later wins\n" +
		"export=not a keyword here\n"
	vars, errs := parseEnvFile(src)
	if len(errs) != 0 {
		t.Fatalf("errors: %+v", errs)
	}
	want := map[string]string{
		"PLAIN":         "later wins",
		"SPACED":        "padded value",
		"EXPORTED":      "1",
		"TABBED":        "2",
		"EMPTY":         "",
		"INLINE":        "a",
		"HASH":          "a#b",
		"DOUBLE":        "x \"y\" \\ $z\n",
		"SINGLE":        "no \\n escapes # here",
		"EQUALS":        "a=b=c",
		"CRLF":          "yes",
		"java.home-dir": "/opt",
		"export":        "not a keyword here",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("vars:\n got %q\nwant %q", vars, want)
	}
}

func TestParseEnvFileErrors(t *testing.T) {
	tests := []struct {
		line string
		want envFileError
	}{
		{"NOEQUALS", envFileError{1, 1, `"NOEQUALS" is not KEY=VALUE`}},
		{"  two words=1", envFileError{1, 3, `"two words" is not an environment variable name`}},
		{"=value", envFileError{1, 1, `"" is not an environment variable name`}},
		{"export 1A=b", envFileError{1, 8, `"1A" is not an environment variable name`}},
		{"A=\"open", envFileError{1, 3, `the value of A has no closing "`}},
		{"A='open", envFileError{1, 3, `the value of A has no closing '`}},
		{"A=\"x\" y", envFileError{1, 7, `unexpected "y" after the quoted value of A`}},
	}
	for _, tt := range tests {
		_, errs := parseEnvFile("OK=1\n" + tt.line)
		tt.want.line = 2
		if len(errs) != 1 || errs[0] != tt.want {
			t.Errorf("%q: errors %+v, want %+v", tt.line, errs, tt.want)
		}
	}
}
