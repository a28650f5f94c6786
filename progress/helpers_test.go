package progress

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/internal/testclock"
	"kawaraban/store"
	"kawaraban/token"
)

var jst = time.FixedZone("JST", 9*60*60)

// plan1471 is a plan with one deadline for two bureaus and reminders 14,
// 7 and 1 days before, every 3 days overdue, escalated after 7.
const plan1471 = "testdata/plan-14-7-1.yaml"

// due is the deadline of testdata/plan-14-7-1.yaml.
var due = time.Date(2027, 4, 30, 0, 0, 0, 0, jst)

// at returns the instant days after the due date (before it when
// negative) at 09:00 in Tokyo.
func at(days int) time.Time { return due.AddDate(0, 0, days).Add(9 * time.Hour) }

// recorder is a Sender that keeps what it is given and fails on demand.
type recorder struct {
	mu    sync.Mutex
	mails []Mail
	fail  error
}

func (r *recorder) SendSystem(_ context.Context, m Mail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.mails = append(r.mails, m)
	return nil
}

// take returns the mails recorded since the last take.
func (r *recorder) take() []Mail {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.mails
	r.mails = nil
	return m
}

type fixture struct {
	s    *Store
	rec  *recorder
	clk  *testclock.Clock
	sign *token.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sign, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{rec: &recorder{}, clk: testclock.New(at(-30)), sign: sign}
	f.s = New(db, Options{Now: f.clk.Now, Signer: sign, BaseURL: "https://mail.city.example.jp/",
		Sender: f.rec, FromName: "京都市 総合企画局"})
	return f
}

// newPlanFixture is newFixture with plan1471 imported.
func newPlanFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.importFile(t, plan1471)
	return f
}

func (f *fixture) importFile(t *testing.T, path string) ImportReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.importString(t, string(b))
}

func (f *fixture) importString(t *testing.T, y string) ImportReport {
	t.Helper()
	rep, err := f.s.Import(context.Background(), strings.NewReader(y), "plan.yaml")
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

// run runs the job at now and returns the mails it sent.
func (f *fixture) run(t *testing.T, now time.Time) []Mail {
	t.Helper()
	f.clk.Set(now)
	rep, err := f.s.RunReminders(context.Background(), now, false)
	if err != nil {
		t.Fatalf("run at %v: %v", now, err)
	}
	mails := f.rec.take()
	if rep.Sent != len(mails) {
		t.Fatalf("report says %d sent, sender got %d", rep.Sent, len(mails))
	}
	return mails
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recipients lists the To of mails, sorted as sent.
func recipients(ms []Mail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To)
	}
	return out
}

var submittedLinkRE = regexp.MustCompile(`https://mail\.city\.example\.jp/progress/submitted/([A-Za-z0-9_-]+)`)

// submittedToken digs the "submitted" token out of a reminder's text.
func submittedToken(t *testing.T, m Mail) string {
	t.Helper()
	sm := submittedLinkRE.FindStringSubmatch(m.Text)
	if sm == nil {
		t.Fatalf("no submitted link in:\n%s", m.Text)
	}
	return sm[1]
}

func mustFileError(t *testing.T, err error) *FileError {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("want *FileError, got %v", err)
	}
	return fe
}
