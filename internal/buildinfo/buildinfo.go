package buildinfo

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// revision is the VCS revision when the build carries none of its own: set
// it with -ldflags "-X github.com/failcast/failcast/internal/buildinfo.revision=$(git rev-parse HEAD)".
var revision string

// Info is what a binary knows about its own build.
type Info struct {
	Version   string `json:"version"`            // module version, or "devel" for a build from a work tree
	Revision  string `json:"revision,omitempty"` // VCS revision ("" when unknown)
	Time      string `json:"time,omitempty"`     // commit time, RFC 3339 ("" when unknown)
	Modified  bool   `json:"modified"`           // built from a tree with uncommitted changes
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Read returns the running binary's build information.
func Read() Info {
	b := Info{Version: "devel", Revision: revision, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one-line form `failcast version` prints:
// "devel (revision 0123456789ab, 2026-11-01T02:15:00Z, modified)".
func (b Info) String() string {
	var parts []string
	if b.Revision != "" {
		parts = append(parts, "revision "+short(b.Revision))
	} else {
		parts = append(parts, "revision unknown")
	}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	if b.Modified {
		parts = append(parts, "modified")
	}
	return b.Version + " (" + strings.Join(parts, ", ") + ")"
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// CodeVersion returns the identity of the running build's code: its VCS
// revision (with "-dirty" when the tree had local changes); without one,
// "devel-" and the first 12 hex digits of the executable's SHA-256, so
// that two builds of different code never look alike; "devel" only when
// the executable cannot be read either.
func CodeVersion() string { return codeVersion() }

var codeVersion = sync.OnceValue(func() string {
	return codeVersionOf(Read(), executableDigest)
})

func codeVersionOf(b Info, digest func() (string, error)) string {
	if b.Revision != "" {
		if b.Modified {
			return b.Revision + "-dirty"
		}
		return b.Revision
	}
	if d, err := digest(); err == nil {
		return "devel-" + d[:12]
	}
	return "devel"
}

// executableDigest is the hex SHA-256 of the running executable.
func executableDigest() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
