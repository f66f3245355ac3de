package mounts

import (
	"fmt"
	"strconv"
	"strings"
)

// Plan is an ordered list of mount operations that builds a role's root
// filesystem and ends with pivot_root into it. It is pure data: it can be
// marshalled to JSON (nook passes it to its init process that way) and
// printed one op per line for golden tests.
type Plan struct {
	// Root is the host path where the new root is mounted. Ops with InRoot
	// set resolve their Target inside it, never through a host path.
	Root string `json:"root"`
	Ops  []Op   `json:"ops"`
}

// Op is one typed mount operation. Kind says which fields matter.
type Op struct {
	Kind OpKind `json:"kind"`
	// Target is where the op acts: a path inside the new root when InRoot
	// is set (resolved with every symlink kept inside the root), else an
	// absolute host path.
	Target string `json:"target"`
	InRoot bool   `json:"inRoot,omitempty"`
	// Source is the host path a bind clones, or the source name of a new
	// filesystem (shown in /proc/self/mountinfo).
	Source string `json:"source,omitempty"`
	// FSType is the filesystem an OpMount creates: tmpfs, proc, devpts.
	FSType string `json:"fstype,omitempty"`
	// Options are filesystem parameters, "key=value" or a bare flag
	// ("newinstance", "userxattr"), passed to fsconfig in order.
	Options []string `json:"options,omitempty"`
	// Flags are mount attributes: "ro", "nosuid", "nodev", "noexec". A
	// bind applies them to the whole cloned tree.
	Flags []string `json:"flags,omitempty"`

	// Lowers are an OpOverlay's lower directories, top layer first.
	Lowers []string `json:"lowers,omitempty"`
	// Upper and Work are an OpOverlay's upper and work directories.
	Upper string `json:"upper,omitempty"`
	Work  string `json:"work,omitempty"`
	// LinkDir is a directory on the scratch tmpfs where an OpOverlay makes
	// short symlinks to its lowers when it must fall back to mount(2),
	// whose options cannot exceed one page.
	LinkDir string `json:"linkDir,omitempty"`

	// Mode is the permission bits of what OpMkdir or OpWrite creates.
	Mode uint32 `json:"mode,omitempty"`
	// Data is the content OpWrite writes.
	Data []byte `json:"data,omitempty"`
	// Link is the text of the symbolic link OpSymlink makes.
	Link string `json:"link,omitempty"`
	// User is the user an OpUser makes exist in the new root.
	User *User `json:"user,omitempty"`
}

// User is a role's user that is you (user = "host"): the plan makes it
// exist in the new root, with your name and ids and a home it can write.
type User struct {
	Name string `json:"name"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	Home string `json:"home"` // the home to give it when the image has no entry for UID: absolute
}

// OpKind names the operation an Op performs.
type OpKind string

// The operations a plan is made of.
const (
	// OpSlave makes every mount at and under Target a slave, recursively,
	// so nothing mounted afterwards propagates back to the host.
	OpSlave OpKind = "rslave"
	// OpMkdir creates the directory Target and its missing parents with
	// Mode; an existing directory is left as it is.
	OpMkdir OpKind = "mkdir"
	// OpWrite writes Data to the new host file Target with Mode.
	OpWrite OpKind = "write"
	// OpMount mounts a new FSType filesystem with Options and Flags at
	// Target, creating the mount point where missing.
	OpMount OpKind = "mount"
	// OpOverlay mounts an overlay of Lowers, Upper and Work with Options at
	// the host path Target.
	OpOverlay OpKind = "overlay"
	// OpBind binds the host path Source, recursively, at Target with Flags;
	// the mount point is made a directory or an empty file after the source.
	OpBind OpKind = "bind"
	// OpSymlink makes Target a symbolic link to Link, replacing a link
	// already there.
	OpSymlink OpKind = "symlink"
	// OpPivotRoot makes the host path Target the root, detaches the old
	// root and changes directory to "/".
	OpPivotRoot OpKind = "pivot-root"
	// OpUser makes User exist in the new root: when its /etc/passwd has no
	// entry for User.UID (or its /etc/group none for User.GID), a copy
	// with one added is written into the host directory Source and bound
	// over it (Target is /etc, in the new root); and the user's home (the image's entry's, else User.Home)
	// is a directory it can write: made when missing, a tmpfs over it
	// when it lies on a read-only mount.
	OpUser OpKind = "user"
	// OpReadOnly makes Target, inside the new root, read-only with
	// everything mounted under it: a recursive bind of it onto itself.
	OpReadOnly OpKind = "readonly"
)

// String renders the plan one op per line, in order.
func (p *Plan) String() string {
	var b strings.Builder
	for i := range p.Ops {
		b.WriteString(p.Ops[i].String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String renders the op on one line: its kind, its target ("root:" marks
// a path inside the new root) and the fields its kind uses.
func (op *Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %s", op.Kind, op.where())
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, " %s=%s", name, value)
		}
	}
	field("type", word(op.FSType))
	field("source", word(op.Source))
	lowers := make([]string, len(op.Lowers))
	for i, l := range op.Lowers {
		lowers[i] = word(l)
	}
	field("lowers", strings.Join(lowers, ":"))
	field("upper", word(op.Upper))
	field("work", word(op.Work))
	field("links", word(op.LinkDir))
	field("link", word(op.Link))
	if u := op.User; u != nil {
		field("user", fmt.Sprintf("%s:%d:%d:%s", word(u.Name), u.UID, u.GID, word(u.Home)))
	}
	if op.Mode != 0 || op.Kind == OpMkdir || op.Kind == OpWrite {
		field("mode", fmt.Sprintf("%04o", op.Mode))
	}
	field("options", word(strings.Join(op.Options, ",")))
	field("flags", strings.Join(op.Flags, ","))
	if op.Kind == OpWrite {
		field("data", strconv.Quote(string(op.Data)))
	}
	return b.String()
}

// where is the op's target as String shows it.
func (op *Op) where() string {
	if op.InRoot {
		return "root:" + word(op.Target)
	}
	return word(op.Target)
}

// word quotes s when it would not read as one plain word.
func word(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || r > '~' }) {
		return strconv.Quote(s)
	}
	return s
}
