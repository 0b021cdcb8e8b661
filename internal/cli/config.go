package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/failcast/failcast/exitcode"
)

// applyConfig reads the file named by cmd's --config flag, if the command
// has one and it was given, and sets every flag it names that was not
// given on the command line. Every problem is a usage error naming the
// file and line.
func applyConfig(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup(configFlag)
	if f == nil || f.Value.String() == "" {
		return nil
	}
	path := f.Value.String()
	data, err := os.ReadFile(path)
	if err != nil {
		return exitcode.Usagef("--config: %w", err)
	}
	return applyConfigData(cmd.Flags(), path, data)
}

// applyConfigData applies the YAML config file data, named path in
// messages, to fs.
func applyConfigData(fs *pflag.FlagSet, path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return exitcode.Usagef("config file %s: %w", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return exitcode.Usagef("config file %s line %d: want a mapping of flag names to values (history: out/history)", path, top.Line)
	}
	return applyMapping(fs, path, top)
}

// applyMapping sets the flags named by the keys of m that are not Changed
// yet. Values are set with the flags' own parsers, so a config file and
// the command line accept the same values.
func applyMapping(fs *pflag.FlagSet, path string, m *yaml.Node) error {
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("config file %s line %d", path, key.Line)
		name := key.Value
		f := fs.Lookup(name)
		if f == nil || name == configFlag || name == "help" || name == "version" {
			return exitcode.Usagef("%s: %q is not a flag of this command (keys are flag names: %s)", where, name, flagNames(fs))
		}
		if given[name] {
			continue // the command line wins
		}
		values, err := scalars(val)
		if err != nil {
			return exitcode.Usagef("%s: %s: %v", where, name, err)
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(values); err != nil {
				return exitcode.Usagef("%s: %s: %v", where, name, err)
			}
			f.Changed = true
			continue
		}
		if len(values) != 1 && !isRepeatable(f) {
			return exitcode.Usagef("%s: %s takes one value, got a list of %d", where, name, len(values))
		}
		for _, v := range values {
			if err := f.Value.Set(v); err != nil {
				return exitcode.Usagef("%s: %s: %v", where, name, err)
			}
		}
		f.Changed = true // counts as given for required flags
	}
	return nil
}

// Repeatable is implemented by flag values that add each value they are
// set to (such as --plan a --plan b); a config file may give them a list.
type Repeatable interface {
	pflag.Value
	Repeatable()
}

func isRepeatable(f *pflag.Flag) bool {
	_, ok := f.Value.(Repeatable)
	return ok
}

// scalars returns the values of a scalar node or of a list of scalars.
func scalars(n *yaml.Node) ([]string, error) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil, errors.New("no value")
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}, nil
	case n.Kind == yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want a plain value in the list", c.Line)
			}
			out = append(out, c.Value)
		}
		if len(out) == 0 {
			return nil, errors.New("empty list")
		}
		return out, nil
	}
	return nil, errors.New("want a value or a list of values, not a mapping")
}

func flagNames(fs *pflag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != configFlag && f.Name != "help" && f.Name != "version" {
			names = append(names, f.Name)
		}
	})
	if len(names) > 12 {
		names = append(names[:12], "...")
	}
	return strings.Join(names, ", ")
}
