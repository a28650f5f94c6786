package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"kawaraban/cmd/internal/cli"
	"kawaraban/web"
)

// The commands on the admin UI's users and their API tokens.

func userAdd(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	login := fs.String("login", "", "login name (required)")
	role := fs.String("role", "", "admin, editor, coordinator or viewer (required)")
	lists := fs.String("lists", "", "comma-separated list slugs an editor may edit")
	return func(ctx context.Context, c cli.Call) error {
		if *login == "" || *role == "" {
			return cli.Usagef("user add needs --login and --role")
		}
		pw, err := cli.ReadLine(c.Stdin)
		if err != nil {
			return err
		}
		slugs := cli.SplitList(*lists)
		return withEnv(ctx, ef, c, func(e *env) error {
			subs := e.subscribers(nil)
			if err := e.syncLists(ctx, subs); err != nil {
				return err
			}
			for _, s := range slugs {
				if _, err := subs.ListBySlug(ctx, s); err != nil {
					return cli.Usagef("--lists: unknown list %q", s)
				}
			}
			if err := e.users().Add(ctx, *login, pw, *role, slugs); err != nil {
				return cli.Usage(err)
			}
			fmt.Fprintf(c.Stdout, "user %s added (%s)\n", *login, *role)
			return nil
		})
	}
}

// userResetPassword gives the user a one-time password, printed once,
// which it must replace at its next login; its sessions end and its API
// tokens are revoked.
func userResetPassword(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	login := fs.String("login", "", "the user whose password to reset (required)")
	return func(ctx context.Context, c cli.Call) error {
		if *login == "" || len(c.Args) != 0 {
			return cli.Usagef("user reset-password needs --login")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			pw, err := e.users().ResetPassword(ctx, *login, "")
			if errors.Is(err, web.ErrUnknownUser) {
				return cli.Usage(err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.Stdout, "one-time password for %s: %s\n", *login, pw)
			fmt.Fprintln(c.Stderr, "its sessions ended and its API tokens were revoked; the password must be changed at the next login")
			return nil
		})
	}
}

func tokenCreate(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	login := fs.String("login", "", "the user whose rights the token carries (required)")
	expires := fs.String("expires", "", "when the token stops working: 90d, 720h or an RFC 3339 time (default never)")
	return func(ctx context.Context, c cli.Call) error {
		if *login == "" {
			return cli.Usagef("token create needs --login")
		}
		until, err := cli.ParseExpiry(*expires, time.Now())
		if err != nil {
			return err
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			tok, err := e.users().CreateTokenUntil(ctx, *login, until)
			if err != nil {
				return cli.Usage(err)
			}
			fmt.Fprintln(c.Stdout, tok)
			return nil
		})
	}
}

// tokenList prints one line per API token of the user: id, created,
// expires ("never") and last use ("never"), tab-separated, times in RFC 3339.
func tokenList(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	login := fs.String("login", "", "the user whose tokens to list (required)")
	return func(ctx context.Context, c cli.Call) error {
		if *login == "" || len(c.Args) != 0 {
			return cli.Usagef("token list needs --login and no other argument")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			ts, err := e.users().Tokens(ctx, *login)
			if err != nil {
				return cli.Usage(err)
			}
			fmt.Fprintln(c.Stdout, "id\tcreated\texpires\tlast_used")
			for _, t := range ts {
				fmt.Fprintf(c.Stdout, "%d\t%s\t%s\t%s\n", t.ID, t.Created.Format(time.RFC3339), cli.TimeOrNever(t.Expires), cli.TimeOrNever(t.LastUsed))
			}
			return nil
		})
	}
}

// tokenRevoke revokes one token of the user by the id `token list` shows.
func tokenRevoke(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	login := fs.String("login", "", "the user whose token to revoke (required)")
	return func(ctx context.Context, c cli.Call) error {
		if *login == "" || len(c.Args) != 1 {
			return cli.Usagef("token revoke needs --login and one TOKEN-ID (see token list)")
		}
		id, err := strconv.ParseInt(c.Args[0], 10, 64)
		if err != nil || id <= 0 {
			return cli.Usagef("token revoke: TOKEN-ID %q is not a token id (see token list)", c.Args[0])
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			if err := e.users().RevokeToken(ctx, *login, id); err != nil {
				if errors.Is(err, web.ErrUnknownToken) || errors.Is(err, web.ErrUnknownUser) {
					return cli.Usage(err)
				}
				return err
			}
			fmt.Fprintf(c.Stdout, "token %d of %s revoked\n", id, *login)
			return nil
		})
	}
}
