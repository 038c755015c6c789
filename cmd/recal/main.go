// Command recal recalendars administratively closed immigration-court cases
// under a policy reversal: it reads closed-case exports (Parquet) from local
// files or S3, applies a recalendaring policy, assigns hearing slots under
// each court's capacity, and writes assignments, reports and a manifest.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	_ "time/tzdata" // time zones of timestamp columns, even in scratch images

	"github.com/recal-project/recal/pipeline/sysexit"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"run", "read, validate, select, schedule and write one run", cmdRun},
		{"validate", "read and check inputs; write nothing", cmdValidate},
		{"gen", "write a seeded synthetic export, capacity calendar and closures", cmdGen},
		{"import-eoir", "build the closed-case export from EOIR's public case-data release", cmdImportEOIR},
		{"report", "render a run's impact report, or compare runs side by side", cmdReport},
		{"merge", "complete a sharded run: check and join the shards' outputs", cmdMerge},
		{"version", "print version and build information", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "recal: internal error: %v\n%s", p, debug.Stack())
			code = sysexit.Software
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return sysexit.Usage
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				code := classify(err)
				fmt.Fprintf(stderr, "recal %s: %v\n", c.name, err)
				return code
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "recal: unknown command %q\n\n", args[0])
	usage(stderr)
	return sysexit.Usage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "recal — recalendar administratively closed immigration-court cases\n\nUsage:\n  recal <command> [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'recal <command> --help' for a command's flags and examples.\n")
}

// flagSet builds a FlagSet whose unset flags fall back to RECAL_<NAME>
// environment variables (flags override the environment, which overrides
// defaults).
func flagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("recal "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\nFlags (each also settable as RECAL_<FLAG>, e.g. --as-of as RECAL_AS_OF):\n", strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return sysexit.With(sysexit.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return sysexit.Errorf(sysexit.ErrUsage, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := "RECAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = sysexit.Errorf(sysexit.ErrUsage, "%s=%q: %v", env, v, e)
			}
		}
	})
	return err
}

// newLogger logs to stderr: text for a person at a terminal, JSON
// otherwise (a container's log collector).
func newLogger(stderr io.Writer, debugLog bool) *slog.Logger {
	return newLoggerTo(stderr, isTerminal(stderr), debugLog)
}

func newLoggerTo(w io.Writer, text, debugLog bool) *slog.Logger {
	level := slog.LevelInfo
	if debugLog {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("version", `Usage: recal version

Prints recal's version (the one every manifest records: stamped at build
time by make build, make run and the image; else the module version, else the
VCS revision, else "dev+" and the binary's sha256), the Go version and platform, the versions of the Parquet and S3 libraries it
was built with, and the VCS revision when the build recorded one.

Example:
  recal version`, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recal %s\n", version())
	fmt.Fprintf(stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch {
			case strings.HasPrefix(d.Path, "github.com/apache/arrow"), strings.HasPrefix(d.Path, "github.com/xitongsys/parquet-go"),
				d.Path == "github.com/aws/aws-sdk-go-v2", d.Path == "github.com/aws/aws-sdk-go-v2/service/s3":
				fmt.Fprintf(stdout, "%s %s\n", d.Path, d.Version)
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.time" || s.Key == "vcs.modified" {
				fmt.Fprintf(stdout, "%s %s\n", s.Key, s.Value)
			}
		}
	}
	return nil
}

// buildVersion is set with -ldflags "-X main.buildVersion=…" (make build,
// make run, make image and the Dockerfile stamp it).
var buildVersion = ""

var resolved struct {
	once sync.Once
	v    string
}

// version is this binary's version, the one `recal version` prints and
// manifests record: the release build's -ldflags value, else the module
// version (go install …@v1.2.3), else the VCS revision the build recorded
// (with -dirty and the binary's hash when the tree was modified), else
// "dev+" and the binary's hash. A build never shares a version with a
// different build, so the commit protocol never takes another binary's
// output for its own (the version is part of the run id).
func version() string {
	resolved.once.Do(func() { resolved.v = resolveVersion() })
	return resolved.v
}

func resolveVersion() string {
	if buildVersion != "" {
		return buildVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	rev, dirty := "", false
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	switch {
	case rev != "" && !dirty:
		return rev
	case rev != "":
		return rev + "-dirty+" + executableHash()
	}
	return "dev+" + executableHash()
}

// executableHash is the first 12 hex digits of the running binary's
// sha256 ("unknown" if it cannot be read).
func executableHash() string {
	p, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(p)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
