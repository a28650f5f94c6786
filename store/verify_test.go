package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newFilledDB makes a migrated database with some rows and closes it, so
// that the file alone holds everything (no -wal).
func newFilledDB(t *testing.T, extra string) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := db.Exec("INSERT INTO meta(key, value) VALUES (?, ?)", fmt.Sprintf("k%04d", i), strings.Repeat("v", 200)); err != nil {
			t.Fatal(err)
		}
	}
	if extra != "" {
		if _, err := db.Exec(extra); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVerify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		make    func(t *testing.T) string
		wantErr error // nil: sound
		wantMsg string
	}{
		{"sound database", func(t *testing.T) string { return newFilledDB(t, "") }, nil, ""},
		{"an extra table of the operator's is allowed", func(t *testing.T) string {
			return newFilledDB(t, "CREATE TABLE notes (x TEXT)")
		}, nil, ""},
		{"not SQLite", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "junk.db")
			os.WriteFile(p, bytes.Repeat([]byte("this is not sqlite "), 400), 0o600)
			return p
		}, ErrCorrupt, "not a SQLite database"},
		{"pages overwritten", func(t *testing.T) string {
			p := newFilledDB(t, "")
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0xA5}, 8192), st.Size()-8192)
			f.Close()
			return p
		}, ErrCorrupt, "integrity check"},
		{"someone else's database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "other.db")
			db, _ := sql.Open("sqlite3", "file:"+p)
			db.Exec("CREATE TABLE t (x INTEGER)")
			db.Close()
			return p
		}, ErrNotKawaraban, "schema version 0"},
		{"a table missing", func(t *testing.T) string {
			return newFilledDB(t, "DROP TABLE suppressions")
		}, ErrNotKawaraban, "no table suppressions"},
		{"newer schema", func(t *testing.T) string {
			return newFilledDB(t, "PRAGMA user_version = 9999")
		}, ErrSchemaTooNew, "9999"},
		{"missing file", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope.db")
		}, os.ErrNotExist, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := c.make(t)
			before, _ := os.ReadFile(path)
			v, err := Verify(context.Background(), path)
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if v.SchemaVersion != LatestVersion() || v.Tables == 0 {
					t.Errorf("Verified %+v, want version %d and some tables", v, LatestVersion())
				}
			} else {
				if err == nil {
					t.Fatalf("Verify passed, want %v", c.wantErr)
				}
				if c.wantErr != os.ErrNotExist && !errors.Is(err, c.wantErr) {
					t.Errorf("err = %v, want %v", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantMsg) || !strings.Contains(err.Error(), path) {
					t.Errorf("err = %v, want it to say %q and name %s", err, c.wantMsg, path)
				}
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("Verify changed the file")
			}
		})
	}
}

// An older kawaraban's database is sound: the schema is compared with
// what the migrations made at its version.
func TestVerifyOlderVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	for _, m := range ms[:3] {
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatal(err)
		}
	}
	db.Exec("PRAGMA user_version = 3")
	db.Close()
	v, err := Verify(context.Background(), path)
	if err != nil || v.SchemaVersion != 3 {
		t.Fatalf("Verify = %+v, %v; want version 3", v, err)
	}
}
