package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/bounces/classify"
	"kawaraban/progress"
	"kawaraban/subscribers"
)

// subcommandTable maps the two-word commands to their functions.
func subcommandTable() map[string]subcommand {
	return map[string]subcommand{
		"import subscribers":  cmdImportSubscribers,
		"export subscribers":  cmdExportSubscribers,
		"export consent":      cmdExportConsent,
		"bounce classify":     cmdBounceClassify,
		"user add":            cmdUserAdd,
		"user reset-password": cmdUserResetPassword,
		"token create":        cmdTokenCreate,
		"token list":          cmdTokenList,
		"token revoke":        cmdTokenRevoke,
		"progress import":     cmdProgressImport,
		"reminders run":       cmdRemindersRun,
		// The bureaus' reports (progress_cmds.go).
		"progress publish":     cmdProgressPublish,
		"progress draft-issue": cmdProgressDraftIssue,
		"export progress":      cmdExportProgress,

		"bounce not-a-bounce": cmdBounceNotABounce,
		// Issue 21: local mode plays a citizen's mail.
		"local mail": cmdLocalMail,
	}
}

// dbFlags returns the flag set of a command that works on the database,
// with --config and --data registered.
func dbFlags(name string, stderr io.Writer) (*flag.FlagSet, *envFlags) {
	fs := newFlagSet(name, stderr)
	ef := &envFlags{}
	ef.register(fs)
	return fs, ef
}

// withEnv opens the env for a command and closes it after; the command
// builds the parts it uses from it (wire.go).
func withEnv(ctx context.Context, ef *envFlags, stderr io.Writer, fn func(e *env) error) error {
	if err := ef.requireData(); err != nil {
		return err
	}
	e, err := openEnv(ctx, *ef, "", stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(e)
}

func cmdImportSubscribers(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("import subscribers", stderr)
	list := fs.String("list", "", "list slug (required)")
	source := fs.String("consent-source", "", "how these people consented (required for public lists), e.g. \"paper form at the 2026 fair\"")
	dry := fs.Bool("dry-run", false, "check and report; change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list == "" || fs.NArg() != 1 {
		return badUsage("import subscribers needs --list SLUG and one FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	return withEnv(ctx, ef, stderr, func(e *env) error {
		subs := e.subscribers(nil)
		if err := e.syncLists(ctx, subs); err != nil {
			return err
		}
		bar := newProgressBar(stderr)
		rep, err := subs.Import(ctx, f, subscribers.ImportOptions{
			ListSlug: *list, ConsentSource: *source, DryRun: *dry, Actor: "cli",
			FileName: filepath.Base(fs.Arg(0)), Progress: bar.show,
		})
		bar.done()
		if err != nil {
			return inputErr(err)
		}
		if rep.Resumed {
			fmt.Fprintf(stderr, "resumed import %d, which had stopped half-way\n", rep.ImportID)
		}
		mode := "imported"
		if rep.DryRun {
			mode = "dry run, nothing changed"
		}
		fmt.Fprintf(stdout, "%s (%s): %d rows, %d added, %d updated, %d unchanged, %d rejected\n",
			fs.Arg(0), mode, rep.Rows, rep.Added, rep.Updated, rep.Unchanged, len(rep.Rejected))
		for _, r := range rep.Rejected {
			if r.ReasonJA == "" { // a row an import before 0026 kept
				fmt.Fprintf(stdout, "line %d: %s\n", r.Line, r.Reason)
				continue
			}
			fmt.Fprintf(stdout, "line %d: %s (%s)\n", r.Line, r.Reason, r.ReasonJA)
		}
		return nil
	})
}

// inputErr marks the domain's bad-input errors as exit code 2.
func inputErr(err error) error {
	var ae *subscribers.AddressError
	switch {
	case errors.As(err, &ae), errors.Is(err, subscribers.ErrUnknownList), errors.Is(err, subscribers.ErrBadCSV),
		errors.Is(err, subscribers.ErrConsentSourceRequired), errors.Is(err, subscribers.ErrBadSource),
		errors.Is(err, subscribers.ErrListClosed),
		errors.Is(err, subscribers.ErrNotFound), errors.Is(err, progress.ErrInvalidFile),
		errors.Is(err, progress.ErrNotFound), errors.Is(err, bounces.ErrNotFound):
		return usageError{err}
	}
	return err
}

func cmdExportSubscribers(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("export subscribers", stderr)
	list := fs.String("list", "", "list slug (required)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list == "" {
		return badUsage("export subscribers needs --list SLUG")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		return inputErr(e.subscribers(nil).ExportSubscribers(ctx, stdout, *list, *bom))
	})
}

func cmdExportConsent(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("export consent", stderr)
	list := fs.String("list", "", "list slug (default: all lists)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		return inputErr(e.subscribers(nil).ExportConsent(ctx, stdout, *list, *bom))
	})
}

// cmdBounceClassify prints one JSON object per failed recipient per line.
func cmdBounceClassify(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bounce classify", stderr)
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return badUsage("bounce classify needs at least one FILE")
	}
	enc := json.NewEncoder(stdout)
	var failed []error
	for _, path := range fs.Args() {
		raw, err := os.ReadFile(path)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		rep, err := classify.Parse(raw)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", path, err))
			continue
		}
		type line struct {
			File      string `json:"file"`
			Recipient string `json:"recipient"`
			Status    string `json:"status"`
			Class     string `json:"class"`
			Reason    string `json:"reason,omitempty"`
			Why       string `json:"why,omitempty"`
		}
		rows := []line{}
		for _, r := range rep.Recipients {
			rows = append(rows, line{path, r.Address, r.Status, string(r.Class), r.Reason, r.Why})
		}
		if len(rows) == 0 {
			rows = append(rows, line{File: path, Class: string(rep.Class)})
		}
		for _, r := range rows {
			if *asJSON {
				enc.Encode(r)
			} else {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", r.File, r.Recipient, r.Status, r.Class)
			}
		}
	}
	if len(failed) > 0 {
		return usageError{errors.Join(failed...)}
	}
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("user add", stderr)
	login := fs.String("login", "", "login name (required)")
	role := fs.String("role", "", "admin, editor, coordinator or viewer (required)")
	lists := fs.String("lists", "", "comma-separated list slugs an editor may edit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *login == "" || *role == "" {
		return badUsage("user add needs --login and --role")
	}
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw = strings.TrimRight(pw, "\r\n")
	var slugs []string
	for _, s := range strings.Split(*lists, ",") {
		if s = strings.TrimSpace(s); s != "" {
			slugs = append(slugs, s)
		}
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		subs := e.subscribers(nil)
		if err := e.syncLists(ctx, subs); err != nil {
			return err
		}
		for _, s := range slugs {
			if _, err := subs.ListBySlug(ctx, s); err != nil {
				return badUsage("--lists: unknown list %q", s)
			}
		}
		if err := e.users().Add(ctx, *login, pw, *role, slugs); err != nil {
			return usageError{err}
		}
		fmt.Fprintf(stdout, "user %s added (%s)\n", *login, *role)
		return nil
	})
}

func cmdProgressImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("progress import", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage("progress import needs one FILE.yaml")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	return withEnv(ctx, ef, stderr, func(e *env) error {
		rep, err := e.progress(nil).Import(ctx, f, fs.Arg(0))
		var fe *progress.FileError
		if errors.As(err, &fe) {
			lines := make([]string, 0, len(fe.Problems))
			for _, p := range fe.Problems {
				lines = append(lines, "  "+p.Error())
			}
			return usageError{fmt.Errorf("%s: nothing imported:\n%s", fs.Arg(0), strings.Join(lines, "\n"))}
		}
		if err != nil {
			return inputErr(err)
		}
		fmt.Fprintf(stdout, "%s: %d contacts, %d measures, %d projects; deadlines: %d created, %d updated, %d unchanged\n",
			fs.Arg(0), rep.Contacts, rep.Measures, rep.Projects, rep.DeadlinesCreated, rep.DeadlinesUpdated, rep.DeadlinesUnchanged)
		for _, w := range rep.Warnings {
			fmt.Fprintln(stdout, "warning:", w)
		}
		return nil
	})
}

func cmdRemindersRun(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("reminders run", stderr)
	nowFlag := fs.String("now", "", "run as if at this RFC 3339 time (default: now)")
	dry := fs.Bool("dry-run", false, "report what would be sent; send and record nothing")
	show := fs.Bool("show", false, "print each mail: recipient, subject and text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return badUsage("--now: not an RFC 3339 time like 2027-04-23T09:00:00+09:00: %q", *nowFlag)
		}
		now = t
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		m, err := newMailing(ctx, e, mailingOptions{localServers: true})
		if err != nil {
			return err
		}
		defer m.Close()
		ps := e.progress(m.system)
		rep, err := ps.RunReminders(ctx, now, *dry)
		if err != nil {
			return err
		}
		printReminderRun(stdout, rep, *show)
		if err := printNextReminders(ctx, stdout, ps, now); err != nil {
			return err
		}
		if rep.Failed > 0 {
			return fmt.Errorf("%d reminders could not be sent (they are retried at the next run)", rep.Failed)
		}
		return nil
	})
}
