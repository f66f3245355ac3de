package rootless

import "strings"

// Refusal is something about the machine that keeps nook, or part of it,
// from working, with the commands that lift it. Where it bites, nook
// shows it as an error's hint; nook doctor shows it before it bites. The
// check that finds it lives once, here, for both.
type Refusal struct {
	Problem string   // what is wrong: "AppArmor restricts unprivileged user namespaces (…)"
	Fix     []string // commands that lift it now, in order
	Keep    []string // commands that make the fix last across reboots; none when Fix lasts
	Or      []string // another way to lift it: words, then commands
}

// Hint renders r for a `nook: hint:` block: the problem, the commands
// (indented, one a line), how to keep the fix, and the other way.
func (r Refusal) Hint() string {
	var b strings.Builder
	b.WriteString(r.Problem)
	if len(r.Fix) > 0 {
		b.WriteString(": fix it with")
	}
	for _, c := range r.Fix {
		b.WriteString("\n  " + c)
	}
	if len(r.Keep) > 0 {
		b.WriteString("\nto keep it across reboots:")
		for _, c := range r.Keep {
			b.WriteString("\n  " + c)
		}
	}
	for i, line := range r.Or {
		if i == 0 {
			b.WriteString("\nor " + line)
		} else {
			b.WriteString("\n  " + line)
		}
	}
	return b.String()
}

// keepSysctl is the command that makes `sysctl name=value` last: a file in
// /etc/sysctl.d, read at boot.
func keepSysctl(name, value, file string) string {
	return "echo '" + name + " = " + value + "' | sudo tee /etc/sysctl.d/" + file
}
