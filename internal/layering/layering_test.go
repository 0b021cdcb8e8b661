package layering

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/failcast/failcast"

// rules maps a package (or, ending in "/", a package tree) to the
// packages of this module it may import (a trailing "/" allows a tree,
// and a package always may import its own subpackages and parent tree
// members listed here). The most specific rule wins. These are the rules
// of ARCHITECTURE.md.
var rules = []struct {
	pkg     string
	mayUse  []string
	comment string
}{
	{"exitcode", nil, "leaf"},
	{"internal/atomicfile", nil, "leaf"},
	{"internal/boundedread", nil, "leaf"},
	{"internal/colmatch", nil, "leaf: closest-name suggestions for --map"},
	{"internal/memlimit", nil, "leaf: memory sizes, GOMEMLIMIT and cgroup limits"},
	{"internal/buildinfo", nil, "leaf: which build is running (version, revision, code identity)"},
	{"internal/cputime", nil, "leaf: the process's CPU seconds"},
	{"internal/mix", nil, "leaf: SplitMix64's finaliser, for seeded order-free draws"},
	{"pipeline", []string{"exitcode", "internal/atomicfile", "internal/boundedread", "internal/colmatch"}, "the contract: bottom"},
	{"pipeline/", []string{"pipeline", "exitcode", "internal/atomicfile", "internal/boundedread", "internal/colmatch", "internal/memlimit"}, "export and the receiver: above the contract only"},
	{"features", []string{"pipeline", "exitcode", "internal/atomicfile", "internal/boundedread", "internal/colmatch"}, "above pipeline"},
	{"features/mechanism", []string{"pipeline", "features"}, "known failure mechanisms and rules: a send and its features -> shares and decisions"},
	{"models", nil, "matrices only"},
	{"models/", []string{"models", "models/", "internal/atomicfile", "internal/boundedread", "internal/buildinfo", "internal/mix"}, "matrices only: never pipeline, features or a stage"},
	{"scoring/predictions", []string{"pipeline"}, "the CSV contract: a leaf others read"},
	{"scoring/plans", []string{"pipeline", "exitcode", "scoring/predictions"}, "plan reading"},
	{"scoring/outcomes", []string{"pipeline", "exitcode", "internal/atomicfile", "internal/boundedread"}, "a plan's outcomes from a later history"},
	{"scoring", []string{"pipeline", "pipeline/", "features", "features/mechanism", "models", "models/", "exitcode", "internal/atomicfile", "internal/boundedread", "internal/cputime", "scoring/"}, "stage"},
	{"training", []string{"pipeline", "pipeline/", "features", "features/mechanism", "models", "models/", "exitcode", "internal/atomicfile", "internal/boundedread", "internal/memlimit", "internal/mix"}, "stage"},
	{"inspect", []string{"pipeline", "exitcode"}, "stage"},
	{"simulate", []string{"pipeline", "exitcode", "internal/atomicfile", "internal/mix", "scoring/predictions"}, "a tool: writes the contracts, reads scoring's outputs"},
	{"internal/cli", []string{"exitcode", "internal/memlimit", "internal/buildinfo"}, "the command framework"},
	{"internal/commands", []string{"pipeline", "pipeline/", "features", "features/", "models/", "scoring", "scoring/", "training", "inspect", "simulate", "exitcode", "internal/cli"}, "one flag-binding function and one call per command"},
	{"internal/layering", nil, "this test"},
	{"cmd/featuredoc", []string{"features", "internal/atomicfile"}, "doc generator"},
	{"cmd/", []string{"internal/cli", "internal/commands"}, "binaries: flags are the commands'"},
	{"bench/", []string{"pipeline", "pipeline/", "features", "features/", "models", "models/", "training", "scoring", "scoring/", "simulate", "exitcode", "internal/atomicfile", "internal/cputime", "bench/"}, "benchmarks"},
}

func ruleFor(pkg string) (allowed []string, ok bool) {
	best := -1
	for i, r := range rules {
		match := r.pkg == pkg || (strings.HasSuffix(r.pkg, "/") && strings.HasPrefix(pkg, r.pkg))
		if match && (best < 0 || len(r.pkg) > len(rules[best].pkg) || r.pkg == pkg) {
			best = i
		}
	}
	if best < 0 {
		return nil, false
	}
	return rules[best].mayUse, true
}

func allowedImport(allowed []string, imp string) bool {
	for _, a := range allowed {
		if a == imp || (strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)) {
			return true
		}
	}
	return false
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		allowed, ok := ruleFor(pkg)
		if !ok {
			t.Errorf("package %s has no import rule: add it to ARCHITECTURE.md and this test", pkg)
			continue
		}
		n++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			imp = strings.TrimPrefix(imp, module+"/")
			if !allowedImport(allowed, imp) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow", pkg, imp)
			}
		}
	}
	if n < 20 {
		t.Fatalf("checked only %d packages", n)
	}
}

func TestRulesCatchAnUpwardImport(t *testing.T) {
	tests := []struct {
		pkg, imp string
		want     bool
	}{
		{"models/gbdt", "pipeline", false},
		{"models/gbdt", "models", true},
		{"pipeline", "features", false},
		{"pipeline/ingest", "pipeline", true},
		{"features", "training", false},
		{"scoring/predictions", "scoring", false},
		{"training", "scoring", false},
		{"simulate", "scoring", false},
		{"simulate", "scoring/predictions", true},
		{"cmd/train", "training", false},
		{"cmd/train", "internal/commands", true},
	}
	for _, tc := range tests {
		allowed, ok := ruleFor(tc.pkg)
		if !ok {
			t.Fatalf("no rule for %s", tc.pkg)
		}
		if got := allowedImport(allowed, tc.imp); got != tc.want {
			t.Errorf("%s importing %s allowed = %v, want %v", tc.pkg, tc.imp, got, tc.want)
		}
	}
}
