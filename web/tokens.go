package web

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnknownToken is returned for a token id the user does not have.
var ErrUnknownToken = errors.New("no such API token")

// TokenInfo describes one API token; the token itself is never stored.
type TokenInfo struct {
	ID       int64
	Created  time.Time
	LastUsed time.Time // zero when never used
	Expires  time.Time // zero when it never expires
}

// CreateToken makes a new API bearer token carrying login's rights and
// returns it; only its SHA-256 hash is stored. `kawaraban token create`
// calls it. It never expires; see CreateTokenUntil.
func (u *Users) CreateToken(ctx context.Context, login string) (string, error) {
	return u.CreateTokenUntil(ctx, login, time.Time{})
}

// CreateTokenUntil is CreateToken for a token that stops working at
// expires (the zero time: never).
func (u *Users) CreateTokenUntil(ctx context.Context, login string, expires time.Time) (string, error) {
	us, err := u.ByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	var exp int64
	if !expires.IsZero() {
		if !expires.After(u.now()) {
			return "", fmt.Errorf("token for %q: expiry %s is not in the future: %w", login, expires.Format(time.RFC3339), ErrBadCredential)
		}
		exp = expires.Unix()
	}
	tok := "kwb_" + randomString(32)
	h := sha256.Sum256([]byte(tok))
	if _, err := u.db.ExecContext(ctx, `INSERT INTO api_tokens(user_id, token_hash, created, expires) VALUES (?, ?, ?, ?)`,
		us.ID, h[:], u.now().Unix(), exp); err != nil {
		return "", fmt.Errorf("storing token for %q: %w", login, err)
	}
	return tok, nil
}

// ByToken returns the user an API token belongs to. An expired token is a
// bad credential like an unknown one.
func (u *Users) ByToken(ctx context.Context, tok string) (User, error) {
	if !strings.HasPrefix(tok, "kwb_") || len(tok) > 200 {
		return User{}, ErrBadCredential
	}
	h := sha256.Sum256([]byte(tok))
	var id int64
	err := u.db.QueryRowContext(ctx, `SELECT user_id FROM api_tokens WHERE token_hash = ? AND (expires = 0 OR expires > ?)`,
		h[:], u.now().Unix()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrBadCredential
	} else if err != nil {
		return User{}, fmt.Errorf("checking token: %w", err)
	}
	us, err := u.byID(ctx, id)
	if errors.Is(err, ErrUnknownUser) {
		return User{}, ErrBadCredential
	}
	return us, err
}

// Tokens lists login's API tokens, oldest first (`kawaraban token list`).
func (u *Users) Tokens(ctx context.Context, login string) ([]TokenInfo, error) {
	us, err := u.ByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	rows, err := u.db.QueryContext(ctx, `SELECT id, created, last_used, expires FROM api_tokens WHERE user_id = ? ORDER BY id`, us.ID)
	if err != nil {
		return nil, fmt.Errorf("listing tokens of %q: %w", login, err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var created, used, exp int64
		if err := rows.Scan(&t.ID, &created, &used, &exp); err != nil {
			return nil, fmt.Errorf("listing tokens of %q: %w", login, err)
		}
		t.Created = time.Unix(created, 0).UTC()
		if used != 0 {
			t.LastUsed = time.Unix(used, 0).UTC()
		}
		if exp != 0 {
			t.Expires = time.Unix(exp, 0).UTC()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken deletes one of login's API tokens (`kawaraban token revoke`).
func (u *Users) RevokeToken(ctx context.Context, login string, id int64) error {
	res, err := u.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = (SELECT id FROM users WHERE login = ?)`, id, login)
	if err != nil {
		return fmt.Errorf("revoking token %d of %q: %w", id, login, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoking token %d of %q: %w", id, login, ErrUnknownToken)
	}
	return nil
}

// RevokeTokens deletes every API token of login and returns how many.
func (u *Users) RevokeTokens(ctx context.Context, login string) (int, error) {
	res, err := u.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE login = ?)`, login)
	if err != nil {
		return 0, fmt.Errorf("revoking the tokens of %q: %w", login, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ResetPassword is an admin's reset of login's password: the user gets
// password as a one-time password to replace at the next login, its
// sessions end and every API token it had is revoked (whoever made the
// reset necessary may hold one). An empty password makes a random one,
// which is returned (`kawaraban user reset-password`).
func (u *Users) ResetPassword(ctx context.Context, login, password string) (string, error) {
	if password == "" {
		password = randomString(15)
	}
	if err := u.SetPassword(ctx, login, password); err != nil {
		return "", err
	}
	if err := u.RequirePasswordChange(ctx, login); err != nil {
		return "", err
	}
	if _, err := u.RevokeTokens(ctx, login); err != nil {
		return "", err
	}
	return password, nil
}
