// Command openmitid is the OpenMitID platform in one binary: the server, its
// administration, the reference app, test data and the load benchmark.
//
// Usage: openmitid <command> [flags]; openmitid help lists the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
)

// A command is one subcommand. run gets the arguments after its name.
type command struct {
	summary string
	run     func(args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"serve":    {"run the server (protocol endpoints, login pages, app API, consoles)", runServe},
		"migrate":  {"bring the database schema up to date", runMigrate},
		"audit":    {"audit log tools: audit verify", runAudit},
		"version":  {"print the version", runVersion},
		"app":      {"the reference MitID app: activate, approve, block, enrol-passport", runApp},
		"admin":    {"administration: admin clients|csca|tokens …", runAdmin},
		"testdata": {"test data: testdata passport (a synthetic passport chip), testdata identities (bulk load)", runTestdata},
		"bench":    {"load benchmark: whole logins against a running server, or --hash", runBench},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "openmitid: unknown command %q (see openmitid help)\n", args[0])
		return 2
	}
	err := cmd.run(args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "openmitid %s: %s\n", args[0], ue.msg)
		return 2
	default:
		fmt.Fprintf(os.Stderr, "openmitid %s: %s\n", args[0], oneLine(err.Error()))
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "OpenMitID: an open national digital identity platform.")
	fmt.Fprintln(w, "\nUsage: openmitid <command> [flags]   (openmitid <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// oneLine keeps an error to one line: operators read it in a terminal or a
// service log, where a wrapped driver message must not sprawl.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlags returns a flag set that reports mistakes as one usage line and
// prints its help to stdout.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error; help is printed only
	// when asked for (see parse), so a typo gets one line, not a page.
	fs.Usage = func() {}
	synopses[fs] = synopsis
	return fs
}

var synopses = map[*flag.FlagSet]string{}

func printHelp(fs *flag.FlagSet) {
	fmt.Fprintf(os.Stdout, "Usage: openmitid %s\n\nFlags:\n", synopses[fs])
	fs.SetOutput(os.Stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses args and allows no positional arguments beyond maxArgs.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(fs)
			return err
		}
		return usageError{fmt.Sprintf("%v (see openmitid %s -h)", err, fs.Name())}
	}
	if fs.NArg() > maxArgs {
		return usageError{fmt.Sprintf("unexpected argument %q (see openmitid %s -h)", fs.Arg(maxArgs), fs.Name())}
	}
	return nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envBool reads a boolean environment variable; a value that is not one is a
// usage error rather than silently false.
func envBool(name string) (bool, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b, nil
	}
	return false, usageError{fmt.Sprintf("%s=%q is not a boolean (use true or false)", name, v)}
}

func newLogger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(env("OPENMITID_LOG_LEVEL", "info"))); err != nil {
		return nil, usageError{fmt.Sprintf("OPENMITID_LOG_LEVEL: %v", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := env("OPENMITID_LOG_FORMAT", "text"); f {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, usageError{fmt.Sprintf("OPENMITID_LOG_FORMAT=%q (want text or json)", f)}
	}
}
