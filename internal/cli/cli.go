package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
)

// Spec describes a command.
type Spec struct {
	Use     string // "inspect", or "show VERSION" for a command taking arguments
	Short   string // one line for the parent's list of commands
	Long    string // the help text (Short when empty)
	Example string // example command lines, indented by two spaces

	// Args checks the positional arguments; nil accepts none.
	Args cobra.PositionalArgs
	// Config adds --config FILE: a YAML file whose keys are the command's
	// flag names. Flags given on the command line win over it.
	Config bool
	// Required are flags the run cannot do without; they may come from the
	// command line or the config file.
	Required []string
	// BeforeRunFailed, when set, is called with the exit code when the
	// command fails before its run starts (a bad flag, config file or
	// argument), so that a scheduled job can still record the failure
	// (train writes its metrics file). The flags parsed so far are set.
	BeforeRunFailed func(code int)
}

// Env is what a command's run gets besides its context.
type Env struct {
	Log    *slog.Logger // on stderr, in the --log-format and --log-level asked for
	Stdout io.Writer    // results (tables, JSON) for the caller to read
	Stderr io.Writer
	Args   []string // the positional arguments, checked by Spec.Args

	// LogFormat and LogLevel are the --log-format and --log-level asked
	// for, for a command that logs through a writer of its own (such as a
	// console drawing progress bars): see NewLogger.
	LogFormat, LogLevel string
}

// Command builds a command from its spec, a function that binds its flags
// and the run. Errors the run returns end the process with
// exitcode.Of(err).
func Command(s Spec, flags func(*pflag.FlagSet), run func(ctx context.Context, env Env) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     s.Use,
		Short:   s.Short,
		Long:    s.Long,
		Example: s.Example,
		Args:    s.Args,
		RunE: func(cmd *cobra.Command, args []string) error {
			env := Env{Log: Logger(cmd.Context()), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Args: args}
			if st := stateOf(cmd); st != nil {
				env.LogFormat, env.LogLevel = st.format, st.level
			}
			if err := run(cmd.Context(), env); err != nil {
				return &runError{err}
			}
			return nil
		},
	}
	if cmd.Long == "" {
		cmd.Long = s.Short
	}
	if s.BeforeRunFailed != nil {
		statesMu.Lock()
		earlyHooks[cmd] = s.BeforeRunFailed
		statesMu.Unlock()
	}
	if cmd.Args == nil {
		cmd.Args = NoArgs
	}
	f := cmd.Flags()
	f.SortFlags = false // in the order the command binds them
	if flags != nil {
		flags(f)
	}
	if s.Config {
		f.String(configFlag, "", "YAML `FILE` whose keys are this command's flag names (such as history: ...); flags on the command line win")
	}
	for _, name := range s.Required {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(fmt.Sprintf("cli: %s: required flag --%s is not bound", s.Use, name))
		}
	}
	return cmd
}

// Group builds a command that only holds subcommands, such as `registry`.
// Run alone it prints its help; an unknown subcommand is a usage error.
func Group(use, short string, children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: short, Args: NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(children...)
	return cmd
}

// NoArgs accepts no positional argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasAvailableSubCommands() {
			return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return fmt.Errorf("unexpected argument %q: %s takes flags only", args[0], cmd.CommandPath())
	}
	return nil
}

// ExactArgs accepts exactly n positional arguments, named in the message.
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s takes %d argument(s) (%s), got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// runError marks an error returned by a command's run, as opposed to one
// cobra raised before it (which are usage errors).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// Main runs root on the process's arguments and exits with the run's exit
// code. SIGINT and SIGTERM cancel the run's context; a second signal kills
// the process at once.
func Main(root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore the default action: a second signal kills at once
	}()
	code := Execute(ctx, root, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Execute runs root with args and returns the exit code. Help and results
// go to stdout, logs and errors to stderr.
func Execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	st := prepare(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitcode.OK
	}
	if ran == nil {
		ran = root
	}
	code := exitCode(err)
	if ctx.Err() != nil {
		code = exitcode.Internal // interrupted, whatever stage it reached
	}
	msg := err.Error()
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		msg += " (interrupted: " + ctx.Err().Error() + ")"
	}
	if st.logger != nil && st.format == "json" {
		st.logger.Error(ran.CommandPath()+" failed", "err", msg, "exit_code", code)
	} else {
		fmt.Fprintf(stderr, "%s: %s\n", ran.CommandPath(), msg)
	}
	if code == exitcode.Usage {
		fmt.Fprintf(stderr, "see '%s --help'\n", ran.CommandPath())
	}
	var re *runError
	if !errors.As(err, &re) {
		statesMu.Lock()
		hook := earlyHooks[ran]
		statesMu.Unlock()
		if hook != nil {
			hook(code)
		}
	}
	return code
}

// exitCode classifies an error from ExecuteC: the run's errors by their
// exit class, everything cobra raised before the run as usage.
func exitCode(err error) int {
	var re *runError
	if errors.As(err, &re) {
		return exitcode.Of(re.err)
	}
	var ce *exitcode.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return exitcode.Usage
}

// state is the common setup installed on a root command.
type state struct {
	format, level string
	logger        *slog.Logger
}

const configFlag = "config"

// states keeps each prepared root's setup. A command tree keeps the flag
// values of its last run, so build a fresh tree for each Execute.
var (
	statesMu sync.Mutex
	states   = map[*cobra.Command]*state{}
	// earlyHooks are the commands' Spec.BeforeRunFailed.
	earlyHooks = map[*cobra.Command]func(code int){}
)

// Every command's own PersistentPreRunE runs, not only the nearest one:
// the common setup is the root's.
func init() { cobra.EnableTraverseRunHooks = true }

// prepare installs the common setup on root once: persistent logging
// flags, the hook that reads config files and builds the logger, usage
// errors for bad flags, the version and the exit-code table in the help.
func prepare(root *cobra.Command) *state {
	statesMu.Lock()
	defer statesMu.Unlock()
	if st, ok := states[root]; ok {
		return st
	}
	st := &state{}
	states[root] = st
	root.SilenceErrors = true // Execute prints them, with the hint
	root.SilenceUsage = true  // an error prints a hint, not the whole usage
	pf := root.PersistentFlags()
	EnumVar(pf, &st.format, "log-format", "text", []string{"text", "json"}, "log format on stderr")
	EnumVar(pf, &st.level, "log-level", "info", []string{"debug", "info", "warn", "error"}, "least severe log level written")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitcode.Wrap(exitcode.Usage, err) })
	if root.Version == "" {
		root.Version = Version().String()
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.SetUsageTemplate(root.UsageTemplate() + exitCodeHelp())
	own := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := applyConfig(cmd); err != nil {
			return err
		}
		st.logger = newLogger(cmd.ErrOrStderr(), st.format, st.level)
		slog.SetDefault(st.logger)
		cmd.SetContext(context.WithValue(cmd.Context(), loggerKey{}, st.logger))
		if own != nil {
			return own(cmd, args)
		}
		return nil
	}
	return st
}

// exitCodeHelp is the exit-code table appended to every command's help.
func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, c := range ExitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", c.Code, c.Meaning)
	}
	return b.String()
}

// ExitCodes is the exit-code table every failcast command shares (the
// codes are package exitcode's).
var ExitCodes = []struct {
	Code    int
	Meaning string
}{
	{exitcode.OK, "ok: the run finished and did what was asked"},
	{exitcode.Internal, "internal failure, or interrupted (SIGINT/SIGTERM); earlier outputs are left untouched"},
	{exitcode.Usage, "bad usage: unknown flag or command, bad value, missing required flag, bad config file"},
	{exitcode.Input, "bad or missing input data (nothing was published or replaced)"},
	{exitcode.Locked, "another run holds the lock (the message names the holder)"},
}

type loggerKey struct{}

// Logger returns the logger the common setup put in ctx, or slog.Default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// stateOf returns the common setup of cmd's root, if prepared.
func stateOf(cmd *cobra.Command) *state {
	statesMu.Lock()
	defer statesMu.Unlock()
	return states[cmd.Root()]
}

// NewLogger returns a logger on w in the given --log-format and
// --log-level (Env.LogFormat, Env.LogLevel).
func NewLogger(w io.Writer, format, level string) *slog.Logger { return newLogger(w, format, level) }

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // EnumVar let only valid levels through
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
