package export

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// gitInfo is what the image's annotations say about the project's git
// checkout: the commit checked out and where the repository comes from.
type gitInfo struct {
	revision string // HEAD's commit id; "" outside a repository
	origin   string // remote "origin"'s URL, credentials removed; "" when none
}

// readGit finds the repository that holds dir and reads HEAD and the
// origin's URL from its files; nook runs no git. Anything it cannot read
// is left empty.
func readGit(dir string) gitInfo {
	gitDir := ""
	for d := dir; ; {
		p := filepath.Join(d, ".git")
		if fi, err := os.Stat(p); err == nil {
			gitDir = p
			if !fi.IsDir() { // a worktree or submodule: "gitdir: PATH"
				b, err := os.ReadFile(p)
				rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
				if err != nil || !ok {
					return gitInfo{}
				}
				if !filepath.IsAbs(rest) {
					rest = filepath.Join(d, rest)
				}
				gitDir = rest
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return gitInfo{}
		}
		d = parent
	}
	common := gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		common = c
	}
	return gitInfo{revision: headCommit(gitDir, common), origin: originURL(common)}
}

// headCommit resolves HEAD to a commit id through loose and packed refs.
func headCommit(gitDir, common string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	for range 10 { // symbolic refs may chain
		ref, ok := strings.CutPrefix(head, "ref: ")
		if !ok {
			if isCommitID(head) {
				return head
			}
			return ""
		}
		if strings.Contains(ref, "..") {
			return ""
		}
		head = ""
		for _, d := range []string{gitDir, common} {
			if b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
				head = strings.TrimSpace(string(b))
				break
			}
		}
		if head == "" {
			return packedRef(common, ref)
		}
	}
	return ""
}

// packedRef finds ref in packed-refs.
func packedRef(common, ref string) string {
	b, err := os.ReadFile(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		id, name, ok := strings.Cut(sc.Text(), " ")
		if ok && name == ref && isCommitID(id) {
			return id
		}
	}
	return ""
}

func isCommitID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// originURL reads remote "origin"'s url from the repository's config,
// without a user name or password it may carry.
func originURL(common string) string {
	b, err := os.ReadFile(filepath.Join(common, "config"))
	if err != nil {
		return ""
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = strings.ReplaceAll(line, " ", "") == `[remote"origin"]`
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !in || !ok || strings.TrimSpace(key) != "url" {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if u, err := url.Parse(val); err == nil && u.User != nil {
			u.User = nil
			val = u.String()
		}
		return val
	}
	return ""
}
