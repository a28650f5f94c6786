package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"kawaraban/web"
)

// parseExpiry reads --expires: a number of days ("90d"), a Go duration
// ("720h") or an RFC 3339 time; "" means never.
func parseExpiry(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return time.Time{}, nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil || n <= 0 {
			return time.Time{}, badUsage("--expires %q: want a positive number of days such as 90d", v)
		}
		return now.AddDate(0, 0, n), nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, badUsage("--expires %q: must be in the future", v)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badUsage("--expires %q: want 90d, 720h or an RFC 3339 time", v)
	}
	if !t.After(now) {
		return time.Time{}, badUsage("--expires %q: must be in the future", v)
	}
	return t, nil
}

func cmdTokenCreate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("token create", stderr)
	login := fs.String("login", "", "the user whose rights the token carries (required)")
	expires := fs.String("expires", "", "when the token stops working: 90d, 720h or an RFC 3339 time (default never)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *login == "" {
		return badUsage("token create needs --login")
	}
	until, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		tok, err := e.users().CreateTokenUntil(ctx, *login, until)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintln(stdout, tok)
		return nil
	})
}

// cmdTokenList prints one line per API token of the user: id, created,
// expires ("never") and last use ("never"), tab-separated, times in RFC 3339.
func cmdTokenList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("token list", stderr)
	login := fs.String("login", "", "the user whose tokens to list (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *login == "" || fs.NArg() != 0 {
		return badUsage("token list needs --login and no other argument")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		ts, err := e.users().Tokens(ctx, *login)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintln(stdout, "id\tcreated\texpires\tlast_used")
		for _, t := range ts {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", t.ID, t.Created.Format(time.RFC3339), timeOrNever(t.Expires), timeOrNever(t.LastUsed))
		}
		return nil
	})
}

func timeOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// cmdTokenRevoke revokes one token of the user by the id `token list`
// shows.
func cmdTokenRevoke(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("token revoke", stderr)
	login := fs.String("login", "", "the user whose token to revoke (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *login == "" || fs.NArg() != 1 {
		return badUsage("token revoke needs --login and one TOKEN-ID (see token list)")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return badUsage("token revoke: TOKEN-ID %q is not a token id (see token list)", fs.Arg(0))
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		if err := e.users().RevokeToken(ctx, *login, id); err != nil {
			if errors.Is(err, web.ErrUnknownToken) || errors.Is(err, web.ErrUnknownUser) {
				return usageError{err}
			}
			return err
		}
		fmt.Fprintf(stdout, "token %d of %s revoked\n", id, *login)
		return nil
	})
}

// cmdUserResetPassword gives the user a one-time password, printed once,
// which it must replace at its next login; its sessions end and its API
// tokens are revoked.
func cmdUserResetPassword(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("user reset-password", stderr)
	login := fs.String("login", "", "the user whose password to reset (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *login == "" || fs.NArg() != 0 {
		return badUsage("user reset-password needs --login")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		pw, err := e.users().ResetPassword(ctx, *login, "")
		if errors.Is(err, web.ErrUnknownUser) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "one-time password for %s: %s\n", *login, pw)
		fmt.Fprintln(stderr, "its sessions ended and its API tokens were revoked; the password must be changed at the next login")
		return nil
	})
}
