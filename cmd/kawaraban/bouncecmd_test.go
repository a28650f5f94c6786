package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"kawaraban/bounces"
	"kawaraban/config"
)

// Issue 14: MarkNotABounce had no caller a user could reach.
func TestBounceNotABounceCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	e, err := openEnv(ctx, config.Source{DataDir: dir}, "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMailing(ctx, e, mailingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.bounces.RecordSendFailure(ctx, bounces.Delivery{Email: "gone@example.jp"}, 550, "5.1.1", "no such user"); err != nil {
		t.Fatal(err)
	}
	bs, err := m.bounces.List(ctx, bounces.Filter{})
	if err != nil || len(bs) != 1 {
		t.Fatalf("bounces %v %v", bs, err)
	}
	id := bs[0].ID
	m.Close()
	e.Close()

	var out, errb strings.Builder
	if err := run(ctx, []string{"bounce", "not-a-bounce", "--data", dir, "--by", "staff", strconv.FormatInt(id, 10)}, nil, &out, &errb); err != nil {
		t.Fatalf("not-a-bounce: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "marked not a bounce") {
		t.Errorf("output %q", out.String())
	}
	err = run(ctx, []string{"bounce", "not-a-bounce", "--data", dir, "999"}, nil, &out, &errb)
	if code := exitCode(err, io.Discard); code != 2 {
		t.Errorf("unknown bounce: %v (exit %d), want exit 2", err, code)
	}
	e, err = openEnv(ctx, config.Source{DataDir: dir}, "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err = newMailing(ctx, e, mailingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if b, err := m.bounces.ByID(ctx, id); err != nil || !b.NotABounce || b.NotABounceBy != "staff" {
		t.Errorf("bounce after the command: %+v %v", b, err)
	}
}
