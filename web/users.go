package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Role is what a user may do. See authorize for the rules.
type Role string

// The four roles.
const (
	RoleAdmin       Role = "admin"
	RoleEditor      Role = "editor"
	RoleCoordinator Role = "coordinator"
	RoleViewer      Role = "viewer"
)

// Errors returned by Users.
var (
	ErrUserExists    = errors.New("user already exists")
	ErrUnknownUser   = errors.New("no such user")
	ErrBadRole       = errors.New("role must be admin, editor, coordinator or viewer")
	ErrBadLogin      = errors.New("login must be 1-64 characters of a-z, 0-9, . _ @ -")
	ErrWeakPassword  = errors.New("password must be at least 10 characters")
	ErrBadCredential = errors.New("wrong login or password")
)

// User is a person who logs in to the admin UI or holds an API token.
type User struct {
	ID       int64
	Login    string
	Role     Role
	Lists    []string // list slugs the user may edit (editor, coordinator)
	Approver bool     // may approve issues on the lists it may edit
	Email    string
	Created  time.Time
	// MustChangePassword: the password was made for the user (the first
	// admin's one-time password, an admin's reset); the admin pages ask
	// for a new one before anything else.
	MustChangePassword bool
}

// UsersOptions configures Users. The zero value is the default.
type UsersOptions struct {
	Now  func() time.Time
	Hash HashParams
}

// Users stores users, their password hashes and their API tokens.
type Users struct {
	db   *sql.DB
	now  func() time.Time
	hash HashParams
	// dummy is hashed when a login is unknown, so that timing does not
	// tell which logins exist.
	dummy string
}

// NewUsers returns the users store on db (migrated by store.Open).
func NewUsers(db *sql.DB, opt UsersOptions) *Users {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	u := &Users{db: db, now: opt.Now, hash: opt.Hash.withDefaults()}
	u.dummy, _ = hashPassword("dummy-password", u.hash)
	return u
}

var loginRE = regexp.MustCompile(`^[a-z0-9._@-]{1,64}$`)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(s)); r {
	case RoleAdmin, RoleEditor, RoleCoordinator, RoleViewer:
		return r, nil
	}
	return "", fmt.Errorf("%q: %w", s, ErrBadRole)
}

// Add creates a user with a password, a role (admin, editor, coordinator
// or viewer) and the list slugs it may edit. `kawaraban user add` calls it.
func (u *Users) Add(ctx context.Context, login, password, role string, lists []string) error {
	r, err := ParseRole(role)
	if err != nil {
		return err
	}
	if !loginRE.MatchString(login) {
		return fmt.Errorf("adding user %q: %w", login, ErrBadLogin)
	}
	if len([]rune(password)) < 10 {
		return fmt.Errorf("adding user %q: %w", login, ErrWeakPassword)
	}
	h, err := hashPassword(password, u.hash)
	if err != nil {
		return fmt.Errorf("adding user %q: %w", login, err)
	}
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adding user %q: %w", login, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE login = ?`, login).Scan(&n); err != nil {
		return fmt.Errorf("adding user %q: %w", login, err)
	}
	if n > 0 {
		return fmt.Errorf("adding user %q: %w", login, ErrUserExists)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users(login, password_hash, role, created) VALUES (?, ?, ?, ?)`,
		login, h, string(r), u.now().Unix())
	if err != nil {
		return fmt.Errorf("adding user %q: %w", login, err)
	}
	id, _ := res.LastInsertId()
	if err := setLists(ctx, tx, id, lists); err != nil {
		return fmt.Errorf("adding user %q: %w", login, err)
	}
	return tx.Commit()
}

func setLists(ctx context.Context, tx *sql.Tx, id int64, lists []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_lists WHERE user_id = ?`, id); err != nil {
		return err
	}
	for _, s := range lists {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_lists(user_id, slug) VALUES (?, ?)`, id, s); err != nil {
			return err
		}
	}
	return nil
}

// SetEmail sets the address test sends go to.
func (u *Users) SetEmail(ctx context.Context, login, email string) error {
	if strings.ContainsAny(email, "\r\n") || (email != "" && !strings.Contains(email, "@")) {
		return fmt.Errorf("setting e-mail of %q: %w", login, &InputError{Field: "email", Message: "not an e-mail address", MessageJA: "メールアドレスの形式が正しくありません"})
	}
	res, err := u.db.ExecContext(ctx, `UPDATE users SET email = ? WHERE login = ?`, strings.TrimSpace(email), login)
	if err != nil {
		return fmt.Errorf("setting e-mail of %q: %w", login, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("setting e-mail of %q: %w", login, ErrUnknownUser)
	}
	return nil
}

// Update changes a user's role, lists and approver flag.
func (u *Users) Update(ctx context.Context, login, role string, lists []string, approver bool) error {
	r, err := ParseRole(role)
	if err != nil {
		return err
	}
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("updating user %q: %w", login, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE login = ?`, login).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("updating user %q: %w", login, ErrUnknownUser)
	} else if err != nil {
		return fmt.Errorf("updating user %q: %w", login, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, approver = ? WHERE id = ?`, string(r), approver, id); err != nil {
		return fmt.Errorf("updating user %q: %w", login, err)
	}
	if err := setLists(ctx, tx, id, lists); err != nil {
		return fmt.Errorf("updating user %q: %w", login, err)
	}
	return tx.Commit()
}

// SetPassword replaces a user's password and ends its sessions.
func (u *Users) SetPassword(ctx context.Context, login, password string) error {
	if len([]rune(password)) < 10 {
		return ErrWeakPassword
	}
	h, err := hashPassword(password, u.hash)
	if err != nil {
		return err
	}
	res, err := u.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change = 0 WHERE login = ?`, h, login)
	if err != nil {
		return fmt.Errorf("setting password of %q: %w", login, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("setting password of %q: %w", login, ErrUnknownUser)
	}
	_, err = u.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE login = ?)`, login)
	return err
}

// RequirePasswordChange makes login choose a new password at its next
// visit to the admin pages (after a password was made for it).
func (u *Users) RequirePasswordChange(ctx context.Context, login string) error {
	if _, err := u.db.ExecContext(ctx, `UPDATE users SET must_change = 1 WHERE login = ?`, login); err != nil {
		return fmt.Errorf("asking %q for a new password: %w", login, err)
	}
	return nil
}

// Disable stops a user from logging in and its API tokens from working;
// its sessions and tokens are deleted. The row stays for the audit log.
func (u *Users) Disable(ctx context.Context, login string) error {
	res, err := u.db.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE login = ? AND disabled = 0`, login)
	if err != nil {
		return fmt.Errorf("disabling %q: %w", login, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("disabling %q: %w", login, ErrUnknownUser)
	}
	for _, q := range []string{`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE login = ?)`,
		`DELETE FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE login = ?)`} {
		if _, err := u.db.ExecContext(ctx, q, login); err != nil {
			return fmt.Errorf("disabling %q: %w", login, err)
		}
	}
	return nil
}

// EnsureAdmin creates the user "admin" with a random one-time password when
// no user exists yet (local mode's first start); the first login must
// replace it. It returns the password and true when it created the user.
func (u *Users) EnsureAdmin(ctx context.Context) (password string, created bool, err error) {
	var n int
	if err := u.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return "", false, fmt.Errorf("counting users: %w", err)
	}
	if n > 0 {
		return "", false, nil
	}
	pw := randomString(15)
	if err := u.Add(ctx, "admin", pw, string(RoleAdmin), nil); err != nil {
		return "", false, err
	}
	if err := u.RequirePasswordChange(ctx, "admin"); err != nil {
		return "", false, err
	}
	return pw, true, nil
}

const userCols = `id, login, role, approver, email, created, must_change`

func (u *Users) scanUser(ctx context.Context, row *sql.Row) (User, error) {
	var us User
	var role string
	var created int64
	if err := row.Scan(&us.ID, &us.Login, &role, &us.Approver, &us.Email, &created, &us.MustChangePassword); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ErrUnknownUser
		}
		return User{}, err
	}
	us.Role, us.Created = Role(role), time.Unix(created, 0)
	rows, err := u.db.QueryContext(ctx, `SELECT slug FROM user_lists WHERE user_id = ? ORDER BY slug`, us.ID)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return User{}, err
		}
		us.Lists = append(us.Lists, s)
	}
	return us, rows.Err()
}

// ByLogin returns the user with that login.
func (u *Users) ByLogin(ctx context.Context, login string) (User, error) {
	us, err := u.scanUser(ctx, u.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE login = ? AND disabled = 0`, login))
	if err != nil {
		return User{}, fmt.Errorf("loading user %q: %w", login, err)
	}
	return us, nil
}

func (u *Users) byID(ctx context.Context, id int64) (User, error) {
	return u.scanUser(ctx, u.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND disabled = 0`, id))
}

// All returns every user, ordered by login.
func (u *Users) All(ctx context.Context) ([]User, error) {
	rows, err := u.db.QueryContext(ctx, `SELECT login FROM users WHERE disabled = 0 ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	var logins []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return nil, err
		}
		logins = append(logins, l)
	}
	rows.Close()
	out := make([]User, 0, len(logins))
	for _, l := range logins {
		us, err := u.ByLogin(ctx, l)
		if err != nil {
			return nil, err
		}
		out = append(out, us)
	}
	return out, nil
}

// Authenticate checks a login and password. Unknown logins cost as much
// time as known ones.
func (u *Users) Authenticate(ctx context.Context, login, password string) (User, error) {
	var id int64
	var h string
	err := u.db.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE login = ? AND disabled = 0`, login).Scan(&id, &h)
	if errors.Is(err, sql.ErrNoRows) {
		checkPassword(password, u.dummy)
		return User{}, ErrBadCredential
	} else if err != nil {
		return User{}, fmt.Errorf("authenticating %q: %w", login, err)
	}
	ok, err := checkPassword(password, h)
	if err != nil {
		return User{}, fmt.Errorf("authenticating %q: %w", login, err)
	}
	if !ok {
		return User{}, ErrBadCredential
	}
	return u.byID(ctx, id)
}

// randomString returns n random bytes, URL-safe base64 encoded.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// canEdit reports whether slug is among the user's lists.
func (us User) canEdit(slug string) bool { return slices.Contains(us.Lists, slug) }
