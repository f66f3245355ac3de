package mounts

// Plan is an ordered list of mount operations that builds a role's root
// filesystem and ends with pivot_root into it. It is pure data: it can be
// marshalled to JSON (nook passes it to its init process that way) and
// printed one op per line for golden tests.
type Plan struct {
	Ops []Op `json:"ops"`
}

// Op is one typed mount operation. Kind says which fields matter.
type Op struct {
	Kind OpKind `json:"kind"`
	// The mounts package owns the remaining fields.
}

// OpKind names the operation an Op performs.
type OpKind string
