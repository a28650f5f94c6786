package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/store"
)

// Issue 16 acceptance: a database with 2,000 bytes overwritten in the
// middle opens (only its schema is read at open), but the quick_check at
// start finds it: /healthz fails with the reason and the metric says 0.
func TestIssue16CorruptPageFailsHealthz(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	d.stop(t)
	path := filepath.Join(dir, "kawaraban.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Pages enough that the middle of the file is table data.
	for _, q := range []string{
		`CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
			INSERT INTO filler (v) SELECT printf('%0500d', i) FROM n`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.WriteAt([]byte(strings.Repeat("\xa5\x5a", 1000)), st.Size()/2)
	f.Close()

	d = startDaemon(t, dir)
	code, body := get(t, d.BaseURL+"/healthz")
	var h map[string]string
	if code != 503 || json.Unmarshal([]byte(body), &h) != nil || h["status"] != "failing" || h["problem"] != "corrupt" || h["reason"] == "" {
		t.Fatalf("/healthz over a corrupt page: %d %s, want 503 failing/corrupt with a reason", code, body)
	}
	_, metrics := get(t, d.BaseURL+"/metrics")
	if !strings.Contains(metrics, "kawaraban_db_healthy 0") {
		t.Errorf("metrics lack kawaraban_db_healthy 0:\n%s", grepLines(metrics, "kawaraban_db"))
	}
	if !strings.Contains(d.out.String(), "quick_check") {
		t.Errorf("the log does not say why:\n%s", d.out.String())
	}
	d.stop(t)
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return fmt.Sprint(out)
}
