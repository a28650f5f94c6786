package main

import (
	"context"
	"errors"
	"io"

	"kawaraban/bounces"
	"kawaraban/cmd/internal/cli"
	"kawaraban/progress"
	"kawaraban/subscribers"
)

// program is kawaraban's command table, in the order the usage text lists
// it (DESIGN.md "Commands" is the contract).
func program() cli.Program {
	return cli.Program{Name: "kawaraban", Commands: []cli.Command{
		{Name: "serve", Usage: "[--config FILE] [--data DIR] [--listen ADDR]", Flags: serve},
		{Name: "check-config", Usage: "[--dns] FILE", Raw: checkConfig},
		{Name: "version", Aliases: []string{"--version", "-v"}, Raw: version},
		{Name: "backup", Usage: "[--config FILE | --data DIR] OUT.db", Raw: backup},
		{Name: "restore", Usage: "[--config FILE | --data DIR] FROM.db   (daemon stopped)", Flags: restore},
		{Name: "import subscribers", Usage: "[--config|--data] --list SLUG [--consent-source SRC] [--dry-run] FILE.csv", Flags: importSubscribers},
		{Name: "export subscribers", Usage: "[--config|--data] --list SLUG [--bom]", Flags: exportListSubscribers},
		{Name: "export consent", Usage: "[--config|--data] [--list SLUG] [--bom]", Flags: exportConsent},
		{Name: "bounce classify", Usage: "--json FILE...", Flags: bounceClassify},
		{Name: "bounce not-a-bounce", Usage: "[--config|--data] [--by LOGIN] ID", Flags: bounceNotABounce},
		{Name: "user add", Usage: "[--config|--data] --login L --role admin|editor|coordinator|viewer [--lists a,b]", Flags: userAdd},
		{Name: "user reset-password", Usage: "[--config|--data] --login L     # prints a one-time password; revokes the user's tokens", Flags: userResetPassword},
		{Name: "token create", Usage: "[--config|--data] --login L [--expires 90d|720h|RFC3339]", Flags: tokenCreate},
		{Name: "token list", Usage: "[--config|--data] --login L", Flags: tokenList},
		{Name: "token revoke", Usage: "[--config|--data] --login L TOKEN-ID", Flags: tokenRevoke},
		// The plan's progress and the bureaus' reports (progress_cmds.go).
		{Name: "progress import", Usage: "[--config|--data] FILE.yaml", Flags: progressImport},
		{Name: "progress publish", Usage: "[--config|--data] --deadline ID [--bureau B]", Flags: progressPublish},
		{Name: "progress draft-issue", Usage: "[--config|--data] --list SLUG [--deadline ID]   # prints the draft's id", Flags: progressDraftIssue},
		{Name: "export progress", Usage: "[--config|--data] [--deadline ID] [--bom]", Flags: exportProgress},
		{Name: "reminders run", Usage: "[--config|--data] [--now RFC3339] [--dry-run] [--show]", Flags: remindersRun},
		// Issue 21: local mode plays a citizen's mail.
		{Name: "local mail", Usage: "[--data DIR] --from ADDR --to ADDR [--subject S] [FILE]", Flags: localMail},
	}, Footer: `Without --config (or KAWARABAN_CONFIG) commands use local mode in --data DIR
(default ./kawaraban-data).`}
}

func version(_ context.Context, c cli.Call) error {
	_, err := io.WriteString(c.Stdout, cli.Version("kawaraban")+"\n")
	return err
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
		return cli.Usage(err)
	}
	return err
}
