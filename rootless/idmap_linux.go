package rootless

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The full id map (IDMapFull) needs newuidmap and newgidmap, setuid
// helpers that write a process's map from /etc/subuid and /etc/subgid.
// Go's SysProcAttr can only write a map itself, and a process exec'd
// before its map exists has no capabilities in its namespace (execve
// recomputes them from a uid that was unmapped then). So the parent
// starts the child with CLONE_NEWUSER and no map; the child, first thing
// (AwaitIDMap), blocks on a pipe; the parent runs newuidmap and newgidmap
// on its pid and writes a byte; the child re-executes itself, now root of
// its namespace with all its capabilities, and carries on.

// idmapEnv tells a re-executed nook that it waits for its map: "wait:FD"
// before the map is written, "ready:FD" after the re-exec; FD is the read
// end of the parent's pipe.
const idmapEnv = "NOOK_IDMAP"

// Files nook reads the subordinate ranges from; tests point them elsewhere.
var (
	subuidFile = "/etc/subuid"
	subgidFile = "/etc/subgid"
)

// fullMap is what mapping the full range needs: the user's ranges and the
// helpers that write them.
type fullMap struct {
	uid, gid             IDRange
	newuidmap, newgidmap string
}

// SubIDs returns the invoking user's first subordinate uid and gid ranges
// from /etc/subuid and /etc/subgid. The error has a Hint when the user has
// none or newuidmap/newgidmap are missing; cmd uses it to check
// `idmap = "full"` in the user config early.
func SubIDs() (uid, gid IDRange, err error) {
	m, err := loadFullMap()
	if err != nil {
		return IDRange{}, IDRange{}, err
	}
	return m.uid, m.gid, nil
}

// loadFullMap reads the user's subordinate ranges and finds the helpers.
func loadFullMap() (*fullMap, error) {
	m, r := fullMapOf(subuidFile, subgidFile, "/usr/bin", exec.LookPath)
	if r != nil {
		return nil, r
	}
	return m, nil
}

// FullMapRefusal says what the full id map (idmap = "full") lacks for this
// user on the machine whose root is root (normally "/"): a range in
// etc/subuid or etc/subgid, or newuidmap and newgidmap (found by lookPath,
// else in usr/bin) that are setuid root or have file capabilities. It
// returns the user's ranges, and nil when nothing is missing.
func FullMapRefusal(root string, lookPath func(string) (string, error)) (uid, gid IDRange, r *Refusal) {
	m, ierr := fullMapOf(filepath.Join(root, "etc/subuid"), filepath.Join(root, "etc/subgid"), filepath.Join(root, "usr/bin"), lookPath)
	if ierr != nil {
		return IDRange{}, IDRange{}, &ierr.refusal
	}
	for _, h := range []string{m.newuidmap, m.newgidmap} {
		if !privilegedHelper(h) {
			return m.uid, m.gid, &Refusal{
				Problem: h + " is neither setuid root nor given file capabilities: it cannot write id maps",
				Fix:     []string{"sudo chmod u+s " + m.newuidmap + " " + m.newgidmap},
				Or:      []string{"give them file capabilities instead, as Fedora does:", "sudo setcap cap_setuid+ep " + m.newuidmap, "sudo setcap cap_setgid+ep " + m.newgidmap},
			}
		}
	}
	return m.uid, m.gid, nil
}

// fullMapOf reads the user's ranges from subuid and subgid and finds the
// helpers with lookPath, else in usrBin.
func fullMapOf(subuid, subgid, usrBin string, lookPath func(string) (string, error)) (*fullMap, *idmapError) {
	id := strconv.Itoa(os.Getuid())
	names := []string{id}
	if u, err := user.LookupId(id); err == nil {
		names = append(names, u.Username)
	}
	who := names[len(names)-1]
	m := &fullMap{}
	var err error
	if m.uid, err = subIDRange(subuid, names); err != nil {
		return nil, &idmapError{err: err, refusal: subIDsRefusal(who, subuid, subgid)}
	}
	if m.gid, err = subIDRange(subgid, names); err != nil {
		return nil, &idmapError{err: err, refusal: subIDsRefusal(who, subuid, subgid)}
	}
	for _, h := range []struct {
		name string
		path *string
	}{{"newuidmap", &m.newuidmap}, {"newgidmap", &m.newgidmap}} {
		if *h.path, err = findHelper(h.name, usrBin, lookPath); err != nil {
			return nil, &idmapError{err: err, refusal: Refusal{
				Problem: "newuidmap and newgidmap are not installed",
				Fix:     []string{"sudo apt-get install uidmap"},
				Or:      []string{"on Fedora and openSUSE, install shadow-utils; or use the single-id map (drop idmap = \"full\" from nook's user config)"},
			}}
		}
	}
	return m, nil
}

// privilegedHelper reports whether the helper at path can write id maps:
// setuid root, or with file capabilities.
func privilegedHelper(path string) bool {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false
	}
	if st.Mode&unix.S_ISUID != 0 && st.Uid == 0 {
		return true
	}
	sz, err := unix.Getxattr(path, "security.capability", nil)
	return err == nil && sz > 0
}

// subIDRange returns the first range of file that belongs to one of
// names (a user's name or numeric id), as in "name:100000:65536".
func subIDRange(file string, names []string) (IDRange, error) {
	entries, err := readIDFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return IDRange{}, fmt.Errorf("mapping the full id range: %s does not exist", file)
		}
		return IDRange{}, fmt.Errorf("mapping the full id range: %w", err)
	}
	for _, f := range entries {
		if len(f) != 3 {
			continue
		}
		for _, n := range names {
			if f[0] != n {
				continue
			}
			start, err1 := strconv.Atoi(f[1])
			count, err2 := strconv.Atoi(f[2])
			if err1 == nil && err2 == nil && start >= 0 && count > 0 {
				return IDRange{Start: start, Count: count}, nil
			}
		}
	}
	return IDRange{}, fmt.Errorf("mapping the full id range: %s has no range for %s", file, names[len(names)-1])
}

// findHelper finds newuidmap or newgidmap with lookPath, else in usrBin.
func findHelper(name, usrBin string, lookPath func(string) (string, error)) (string, error) {
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join(usrBin, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("mapping the full id range: %s is not installed", name)
	}
	return p, nil
}

// subIDsRefusal says how to give who a subordinate range of 65536 ids
// that no one else's range in subuid or subgid overlaps.
func subIDsRefusal(who, subuid, subgid string) Refusal {
	start := freeSubIDs(subuid, subgid)
	r := fmt.Sprintf("%d-%d", start, start+65535)
	return Refusal{
		Problem: who + " has no subordinate ids in /etc/subuid and /etc/subgid",
		Fix:     []string{"sudo usermod --add-subuids " + r + " --add-subgids " + r + " " + who},
		Or:      []string{"use the single-id map (the default: drop idmap = \"full\" from nook's user config)"},
	}
}

// freeSubIDs is the start of a range of 65536 ids above every range of
// files, on a multiple of 65536, and not below 100000 (as useradd picks
// them).
func freeSubIDs(files ...string) int {
	end := 100000
	for _, file := range files {
		entries, _ := readIDFile(file)
		for _, f := range entries {
			if len(f) != 3 {
				continue
			}
			start, err1 := strconv.Atoi(f[1])
			count, err2 := strconv.Atoi(f[2])
			if err1 == nil && err2 == nil {
				end = max(end, start+count)
			}
		}
	}
	if end == 100000 {
		return end
	}
	return (end + 65535) / 65536 * 65536
}

// idmapError is a failure to map the full id range.
type idmapError struct {
	err     error
	refusal Refusal // Problem empty: no known fix
	hint    string  // when refusal has none
}

func (e *idmapError) Error() string { return e.err.Error() }
func (e *idmapError) Unwrap() error { return e.err }

// Hint says how to give the user a range or the helpers.
func (e *idmapError) Hint() string {
	if e.refusal.Problem != "" {
		return e.refusal.Hint()
	}
	return e.hint
}

// idmapGate holds a child started without a map until its map is written.
type idmapGate struct {
	m    *fullMap
	r, w *os.File
}

// gate prepares cmd, not yet started and asking for CLONE_NEWUSER, to
// wait for its map: the child (a re-exec of nook that calls AwaitIDMap
// first) inherits the pipe's read end. Close the gate once cmd has
// exited.
func (m *fullMap) gate(cmd *exec.Cmd) (*idmapGate, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("making the id map pipe: %w", err)
	}
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=wait:%d", idmapEnv, fd))
	if a := cmd.SysProcAttr; a != nil {
		a.UidMappings, a.GidMappings = nil, nil
	}
	return &idmapGate{m: m, r: r, w: w}, nil
}

// open writes pid's map, then lets it go on. The write end stays open
// until Close: the child, re-executed, checks with it that its parent
// still lives.
func (g *idmapGate) open(pid int) error {
	g.r.Close()
	p := strconv.Itoa(pid)
	for _, h := range []struct {
		helper string
		own    int
		sub    IDRange
		file   string
	}{
		{g.m.newuidmap, os.Getuid(), g.m.uid, subuidFile},
		{g.m.newgidmap, os.Getgid(), g.m.gid, subgidFile},
	} {
		args := []string{p, "0", strconv.Itoa(h.own), "1", "1", strconv.Itoa(h.sub.Start), strconv.Itoa(h.sub.Count)}
		out, err := exec.Command(h.helper, args...).CombinedOutput()
		if err != nil {
			return &idmapError{
				err: fmt.Errorf("mapping the full id range: %s %s: %v: %s",
					h.helper, strings.Join(args, " "), err, strings.TrimSpace(string(out))),
				hint: fmt.Sprintf("%s must be setuid root (or have cap_setuid/cap_setgid), and %s must give you the range %d-%d",
					h.helper, h.file, h.sub.Start, h.sub.Start+h.sub.Count-1),
			}
		}
	}
	if _, err := g.w.Write([]byte{1}); err != nil {
		return fmt.Errorf("releasing the mapped process %d: %w", pid, err)
	}
	return nil
}

// Close closes the gate's pipe.
func (g *idmapGate) Close() error {
	g.r.Close()
	return g.w.Close()
}

// StartWithFullMap starts cmd with the full id map. cmd re-executes nook
// (Path "/proc/self/exe"), asks for CLONE_NEWUSER in its SysProcAttr, and
// its entry point calls AwaitIDMap first thing. The error has a Hint when
// the user has no range or the helpers fail. Close the returned closer
// once cmd has exited.
func StartWithFullMap(cmd *exec.Cmd) (io.Closer, error) {
	m, err := loadFullMap()
	if err != nil {
		return nil, err
	}
	return m.start(cmd)
}

// start starts cmd and writes its map.
func (m *fullMap) start(cmd *exec.Cmd) (io.Closer, error) {
	g, err := m.gate(cmd)
	if err != nil {
		return nil, err
	}
	if err := startNamespaced(cmd); err != nil {
		g.Close()
		return nil, err
	}
	if err := g.open(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		g.Close()
		return nil, err
	}
	return g, nil
}

// AwaitIDMap is the child's side of the full id map. A process nook
// started in a new user namespace without a map (Run with IDMapFull,
// RemoveAll) calls it first thing: it blocks until the parent has written
// the map, then re-executes itself, which gives it its capabilities as
// root of the namespace; after that re-exec it re-arms the parent-death
// signal (the exec's gain of capabilities cleared it) and returns. A
// process started any other way returns at once, having read nothing but
// its environment. Init and RemoveMain call it; so must any other entry
// point that nook re-executes with the full map.
func AwaitIDMap() { awaitIDMap(true) }

// awaitIDMap is AwaitIDMap; a detached process (the pod, which outlives
// the nook that starts it) passes dieWithParent false.
func awaitIDMap(dieWithParent bool) {
	v, ok := os.LookupEnv(idmapEnv)
	if !ok {
		return
	}
	phase, fdText, _ := strings.Cut(v, ":")
	fd, err := strconv.Atoi(fdText)
	if err != nil {
		awaitFailed(fmt.Errorf("bad %s=%q", idmapEnv, v))
	}
	switch phase {
	case "wait":
		var b [1]byte
		for {
			n, err := unix.Read(fd, b[:])
			if err == unix.EINTR {
				continue
			}
			if n != 1 {
				// The parent could not write the map, and says why.
				os.Exit(exitNook)
			}
			break
		}
		os.Setenv(idmapEnv, "ready:"+fdText)
		err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
		awaitFailed(fmt.Errorf("re-executing %s with its id map: %w", os.Args[0], err))
	case "ready":
		if !dieWithParent {
			unix.Close(fd)
			os.Unsetenv(idmapEnv)
			return
		}
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
			awaitFailed(fmt.Errorf("setting the parent-death signal: %w", err))
		}
		// Had the parent died before that, its end of the pipe is closed.
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&unix.POLLHUP != 0 {
			os.Exit(exitNook)
		}
		unix.Close(fd)
		os.Unsetenv(idmapEnv)
	default:
		awaitFailed(fmt.Errorf("bad %s=%q", idmapEnv, v))
	}
}

func awaitFailed(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
	os.Exit(exitNook)
}
