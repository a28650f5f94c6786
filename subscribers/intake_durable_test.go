package subscribers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kawaraban/store"
)

// intakeRows counts the requests waiting in subscribe_intake.
func (f fixture) intakeRows(t testing.TB) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribe_intake`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// confirmationsTo lists the addresses of the confirmation mails sent
// since the n-th.
func (f fixture) confirmationsTo(n int) []string {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	var to []string
	for _, c := range f.rec.sent[n:] {
		to = append(to, c.To)
	}
	return to
}

// runOnce runs in until what is written is done: a Run whose context has
// ended does that and returns.
func (f fixture) runOnce(t testing.TB, in *Intake) {
	t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if err := in.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// The child half of TestIntakeSurvivesKill9: answer a request as the
// daemon does (Run waiting for its delay), then die by SIGKILL.
const killChildEnv = "KAWARABAN_INTAKE_KILL_DB"

// TestIntakeSurvivesKill9: a request answered in the last moment before
// a kill -9 (before Run's IntakeDelay passed) is done by the next run.
// Until issue 15's queue was made durable it was lost: the citizen was
// told to check their mail and got nothing.
func TestIntakeSurvivesKill9(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		f := newFixtureAt(t, path)
		in := f.s.NewIntake(nil)
		go in.Run(f.ctx)
		err := in.Submit(f.ctx, SubscribeRequest{Email: "Late.Comer@Example.JP", Name: "遅来太郎", Lists: []string{"kodomo", "kankyo"},
			Evidence: Evidence{IP: "192.0.2.9", UserAgent: "kill-test"}, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("answered\n")
		p, _ := os.FindProcess(os.Getpid())
		p.Kill() // SIGKILL: no deferred function, no drain
		select {}
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.db")
	newFixtureAt(t, path).db.Close() // migrated and lists in place
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestIntakeSurvivesKill9$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if !bytes.Contains(out, []byte("answered")) {
		t.Fatalf("the child did not answer: %v\n%s", err, out)
	}
	if cmd.ProcessState.Success() {
		t.Fatalf("the child was not killed:\n%s", out)
	}

	f := newFixtureAt(t, path)
	if n := f.intakeRows(t); n != 1 {
		t.Fatalf("%d requests waiting after the kill, want 1", n)
	}
	f.runOnce(t, f.s.NewIntake(nil))
	if to := f.confirmationsTo(0); !slices.Equal(to, []string{"Late.Comer@example.jp"}) {
		t.Fatalf("confirmation mails after the restart: %v", to)
	}
	c := f.rec.last(t)
	if c.Name != "遅来太郎" || c.Lang != "en" || len(c.Lists) != 2 {
		t.Errorf("the request lost its fields on the way: %+v", c)
	}
	var ip, ua string
	err = f.db.QueryRowContext(f.ctx, `SELECT ip, user_agent FROM consent_events WHERE event = ? ORDER BY id DESC LIMIT 1`,
		EventConfirmRequest).Scan(&ip, &ua)
	if err != nil || ip != "192.0.2.9" || ua != "kill-test" {
		t.Errorf("evidence of the request: %q %q %v", ip, ua, err)
	}
	if n := f.intakeRows(t); n != 0 {
		t.Errorf("%d requests still waiting once done, want 0 (they hold personal data)", n)
	}
}

// TestIntakeNextRunFinishesWhatWasWritten: the in-process form of a
// crash. Requests written by an Intake whose Run never came to them are
// done, in order, by a new Intake on a new connection to the same file.
func TestIntakeNextRunFinishesWhatWasWritten(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.db")
	f := newFixtureAt(t, path)
	in := f.s.NewIntake(nil)
	for _, a := range []string{"first@example.jp", "second@example.jp"} {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: a, Lists: []string{"kodomo"}}); err != nil {
			t.Fatal(err)
		}
	}
	f.db.Close() // the process is gone with its Intake

	g := newFixtureAt(t, path)
	g.runOnce(t, g.s.NewIntake(nil))
	if to := g.confirmationsTo(0); !slices.Equal(to, []string{"first@example.jp", "second@example.jp"}) {
		t.Errorf("confirmation mails %v, want both in order", to)
	}
	if n := g.intakeRows(t); n != 0 {
		t.Errorf("%d requests left", n)
	}
}

// TestIntakeRunWaitsThenDoes: Run does a request IntakeDelay after it
// finds it, not at once, and deletes its row.
func TestIntakeRunWaitsThenDoes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	start := time.Now()
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, "the request", func() bool { return f.intakeRows(t) == 0 })
	if took := time.Since(start); took < IntakeDelay {
		t.Errorf("done %v after the answer, want at least IntakeDelay", took)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if to := f.confirmationsTo(0); !slices.Equal(to, []string{"new@example.jp"}) {
		t.Errorf("confirmation mails %v", to)
	}
}

// TestIntakeRefusedRequestIsDropped: a request that was fine when it was
// answered but is refused when its work is done (the list closed
// meanwhile) is logged and deleted, not retried.
func TestIntakeRefusedRequestIsDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.CloseList(f.ctx, "kodomo"); err != nil {
		t.Fatal(err)
	}
	f.runOnce(t, in)
	if n := f.rec.count(); n != 0 {
		t.Errorf("%d confirmation mails for a closed list", n)
	}
	if n := f.intakeRows(t); n != 0 {
		t.Errorf("the refused request is still waiting (%d rows)", n)
	}
}

// fullDisk makes every INSERT into table fail as SQLite does on a full
// disk, until the returned function is called.
func fullDisk(t *testing.T, f fixture, table string) (heal func()) {
	t.Helper()
	_, err := f.db.ExecContext(f.ctx, `CREATE TRIGGER full_disk BEFORE INSERT ON `+table+`
BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END`)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := f.db.ExecContext(f.ctx, `DROP TRIGGER full_disk`); err != nil {
			t.Fatal(err)
		}
	}
}

// fullDiskIntake is an Intake, with its database's health, whose
// requests cannot be written; known@example.jp is on kodomo.
func fullDiskIntake(t *testing.T) (fixture, *Intake, *store.Health) {
	t.Helper()
	f := newFixture(t)
	f.subscribeConfirmed(t, "known@example.jp", "kodomo")
	h, err := store.NewHealth(f.db, store.HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := f.s.NewIntake(h)
	fullDisk(t, f, "subscribe_intake")
	return f, in, h
}

// refusedAlike checks that the Submit of each of addrs was refused with
// store.ErrUnhealthy and that the answers do not differ by address.
func refusedAlike(t *testing.T, addrs []string, errs []error) {
	t.Helper()
	for i, err := range errs {
		if !errors.Is(err, store.ErrUnhealthy) {
			t.Fatalf("Submit(%s) on a full disk: %v, want store.ErrUnhealthy", addrs[i], err)
		}
		if err.Error() != errs[0].Error() {
			t.Errorf("the answers differ by address:\n%s\n%s", errs[0], err)
		}
	}
}

// TestIntakeSubmitRefusesAlikeOnAFullDisk: when the request cannot be
// written, every address gets the same error, the database's health
// learns why, and nothing is queued.
func TestIntakeSubmitRefusesAlikeOnAFullDisk(t *testing.T) {
	t.Parallel()
	f, in, h := fullDiskIntake(t)
	addrs := []string{"new@example.jp", "known@example.jp"}
	var errs []error
	for _, a := range addrs {
		errs = append(errs, in.Submit(f.ctx, SubscribeRequest{Email: a, Lists: []string{"kodomo"}}))
	}
	refusedAlike(t, addrs, errs)
	if st := h.Status(); st.OK || st.Problem != store.ProblemDiskFull {
		t.Errorf("health after the failed write: %+v", st)
	}
	if n := f.intakeRows(t); n != 0 {
		t.Errorf("%d requests written", n)
	}
}

// TestIntakeRetriesADatabaseFailure: when the per-address work fails in
// the database, the request stays written and is done once the database
// takes writes again.
func TestIntakeRetriesADatabaseFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h, err := store.NewHealth(f.db, store.HealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := f.s.NewIntake(h)
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	heal := fullDisk(t, f, "subscribers")
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, "the failure reaches the health", func() bool { return h.Err() != nil })
	if n := f.intakeRows(t); n != 1 {
		t.Fatalf("%d requests waiting after the failure, want 1", n)
	}
	heal()
	waitFor(t, "the request is done", func() bool { return f.intakeRows(t) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if to := f.confirmationsTo(0); !slices.Equal(to, []string{"new@example.jp"}) {
		t.Errorf("confirmation mails %v", to)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// TestIntakeErasureTakesPendingRequests: an erasure deletes the address's
// requests still waiting (they hold its address, name and IP), and Run
// then brings nothing back.
func TestIntakeErasureTakesPendingRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "taro@example.jp", "kodomo")
	in := f.s.NewIntake(nil)
	for _, a := range []string{"taro@example.jp", "Taro@Example.jp", "other@example.jp"} {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: a, Name: "太郎", Lists: []string{"kankyo"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.Erase(f.ctx, id, "admin", "本人の依頼"); err != nil {
		t.Fatal(err)
	}
	if n := f.intakeRows(t); n != 1 {
		t.Errorf("%d requests waiting after erasing taro@, want only other@'s", n)
	}
	sent := f.rec.count()
	f.runOnce(t, in)
	if to := f.confirmationsTo(sent); !slices.Equal(to, []string{"other@example.jp"}) {
		t.Errorf("confirmation mails after the erasure: %v", to)
	}
	var n int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = ? COLLATE NOCASE`, "taro@example.jp").Scan(&n)
	if n != 0 {
		t.Error("the erased address came back through a waiting request")
	}
}

// TestSubscribeTwiceWhileWaiting: Subscribe again for an address that is
// waiting for its confirmation (the intake repeats one only when the
// confirmation mail could not be handed on) makes no second subscriber
// or subscription, and sends a second confirmation mail (within the
// daily limit).
func TestSubscribeTwiceWhileWaiting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "twice@example.jp", "kodomo")
	f.subscribe(t, "twice@example.jp", "kodomo")
	var subs, subscriptions int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = 'twice@example.jp'`).Scan(&subs)
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE s.email = 'twice@example.jp'`).Scan(&subscriptions)
	if subs != 1 || subscriptions != 1 {
		t.Errorf("%d subscribers, %d subscriptions; want 1 and 1", subs, subscriptions)
	}
	if to := f.confirmationsTo(0); !slices.Equal(to, []string{"twice@example.jp", "twice@example.jp"}) {
		t.Errorf("confirmation mails %v, want two", to)
	}
}

// failOnce is a Confirmer that fails its first call.
type failOnce struct {
	recorder
	failed bool
}

func (c *failOnce) SendConfirmation(ctx context.Context, cf Confirmation) error {
	c.mu.Lock()
	first := !c.failed
	c.failed = true
	c.mu.Unlock()
	if first {
		return errors.New("queue unavailable (injected)")
	}
	return c.recorder.SendConfirmation(ctx, cf)
}

// TestIntakeConfirmationNotHandedOnIsSentAgain: the request is recorded
// and its row deleted in one transaction; when the mail then cannot be
// handed on, Run subscribes again (the address is waiting now) so the
// mail still goes out, and no second subscriber appears.
func TestIntakeConfirmationNotHandedOnIsSentAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &failOnce{}
	f.s.opt.Confirmer = c
	in := f.s.NewIntake(nil)
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "retry@example.jp", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, "the confirmation mail", func() bool { return c.count() == 1 })
	cancel()
	<-done
	var subs int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = 'retry@example.jp'`).Scan(&subs)
	if subs != 1 || f.intakeRows(t) != 0 {
		t.Errorf("%d subscribers, %d rows waiting; want 1 and 0", subs, f.intakeRows(t))
	}
}

// failAlways is a Confirmer whose mail can never be handed on for one
// address (a template that does not render for it), counting the tries.
type failAlways struct {
	recorder
	bad   string
	tries int
}

func (c *failAlways) SendConfirmation(ctx context.Context, cf Confirmation) error {
	if cf.To == c.bad {
		c.mu.Lock()
		c.tries++
		c.mu.Unlock()
		return errors.New("rendering confirmation: template error (injected)")
	}
	return c.recorder.SendConfirmation(ctx, cf)
}

// TestIntakeGivesUpOnAMailThatCannotBeSent: a confirmation mail that can
// never be handed on is tried as often as the daily cap of confirmation
// mails to one address allows (each try counts), then Subscribe sends
// none and Run goes on to the requests behind it; the subscription stays
// recorded, waiting.
func TestIntakeGivesUpOnAMailThatCannotBeSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &failAlways{bad: "broken@example.jp"}
	f.s.opt.Confirmer = c
	f.s.opt.MaxConfirmationsPerAddressPerDay = 2 // pauses of 1 s and 2 s
	in := f.s.NewIntake(nil)
	for _, addr := range []string{"broken@example.jp", "behind@example.jp"} {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: addr, Lists: []string{"kodomo"}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, "the mail of the request behind", func() bool { return c.count() == 1 })
	cancel()
	<-done
	c.mu.Lock()
	tries := c.tries
	c.mu.Unlock()
	if want := f.s.opt.MaxConfirmationsPerAddressPerDay; tries != want {
		t.Errorf("the broken mail was tried %d times, want %d (the daily cap)", tries, want)
	}
	var subs int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = 'broken@example.jp'`).Scan(&subs)
	if subs != 1 || f.intakeRows(t) != 0 {
		t.Errorf("%d subscribers, %d rows waiting; want 1 and 0", subs, f.intakeRows(t))
	}
}

// TestIntakeTableSaysNothingAboutAnAddress: the table Submit writes has
// no index (so no UNIQUE constraint) that could make an INSERT fail or
// cost more because the address was seen before; the same request twice
// is two rows.
func TestIntakeTableSaysNothingAboutAnAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var n int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM pragma_index_list('subscribe_intake')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("subscribe_intake has %d indexes (%v), want none", n, err)
	}
	in := f.s.NewIntake(nil)
	for range 2 {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: "same@example.jp", Lists: []string{"kodomo"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.intakeRows(t); n != 2 {
		t.Errorf("%d rows for two requests", n)
	}
}

// TestIntakeRowIDReusedAfterErasure: SQLite gives a deleted row's id to
// the next INSERT when it was the largest. An erasure deletes a request
// that Run has already read; a new request then takes its id. Run must
// find the erased request gone, not claim the new one in its place (that
// brought the erased address back and lost the new request).
func TestIntakeRowIDReusedAfterErasure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "taro@example.jp", "kodomo")
	in := f.s.NewIntake(nil)
	for _, a := range []string{"other@example.jp", "taro@example.jp"} {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: a, Lists: []string{"kankyo"}}); err != nil {
			t.Fatal(err)
		}
	}
	read, err := in.rows(f.ctx, 0) // Run has read the batch
	if err != nil || len(read) != 2 {
		t.Fatalf("rows: %v %v", read, err)
	}
	if _, err := f.s.Erase(f.ctx, id, "admin", "本人の依頼"); err != nil {
		t.Fatal(err)
	}
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "late@example.jp", Lists: []string{"kankyo"}}); err != nil {
		t.Fatal(err)
	}
	var lateID int64
	f.db.QueryRowContext(f.ctx, `SELECT id FROM subscribe_intake WHERE email = 'late@example.jp'`).Scan(&lateID)
	if lateID != read[1].id {
		t.Fatalf("the new request got id %d, not the erased one's %d: the test no longer sets up the reuse", lateID, read[1].id)
	}
	in.subscribe(f.ctx, read[1]) // Run comes to the erased request
	var n int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = 'taro@example.jp'`).Scan(&n)
	if n != 0 {
		t.Error("the erased address came back through a reused row id")
	}
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribe_intake WHERE email = 'late@example.jp'`).Scan(&n)
	if n != 1 {
		t.Error("the new request that took the erased one's id was claimed in its place")
	}
}

// eraseThenFail is a Confirmer that, at its first call, erases the
// subscriber the mail is for and then fails: an erasure that lands while
// the intake waits to hand on a confirmation mail again.
type eraseThenFail struct {
	recorder
	s     *Store
	calls int
}

func (c *eraseThenFail) SendConfirmation(ctx context.Context, cf Confirmation) error {
	c.mu.Lock()
	c.calls++
	first := c.calls == 1
	c.mu.Unlock()
	if !first {
		return c.recorder.SendConfirmation(ctx, cf)
	}
	if _, err := c.s.Erase(ctx, cf.SubscriberID, "admin", "本人の依頼"); err != nil {
		return err
	}
	return errors.New("queue unavailable (injected)")
}

// TestIntakeResendDoesNotBringBackAnErasure: when the confirmation mail
// could not be handed on and the subscriber is erased before the intake
// tries again, the retry finds the subscriber gone and does nothing: the
// erased address neither comes back nor gets a mail.
func TestIntakeResendDoesNotBringBackAnErasure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &eraseThenFail{s: f.s}
	f.s.opt.Confirmer = c
	in := f.s.NewIntake(nil)
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "gone@example.jp", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	read, err := in.rows(f.ctx, 0)
	if err != nil || len(read) != 1 {
		t.Fatalf("rows: %v %v", read, err)
	}
	in.subscribe(f.ctx, read[0]) // fails to hand on, retries after 1 s
	var n int
	f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribers WHERE email = 'gone@example.jp'`).Scan(&n)
	if n != 0 {
		t.Error("the erased address came back through the intake's retry")
	}
	if got := c.count(); got != 0 {
		t.Errorf("%d confirmation mails to the erased address", got)
	}
}
