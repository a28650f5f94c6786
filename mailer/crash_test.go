package mailer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/store"
)

const crashEnv = "KAWARABAN_MAILER_CRASH_CHILD" // "dbpath|port"

// crashOptions are shared by the child and the restarted engine.
func crashOptions(port int) Options {
	return Options{
		Relays:   []Relay{{Host: "127.0.0.1", Port: port, TLS: TLSNone, MaxConns: 4}},
		Renderer: testRenderer{},
		Workers:  8, BatchSize: 100, InFlight: 400,
	}
}

// TestCrashResume (issue 5): a child process sending an issue is killed
// with SIGKILL mid-send; a restarted engine finishes it. The sink counts
// every recipient's copies: none is missing and at most InFlight got two.
func TestCrashResume(t *testing.T) {
	if spec := os.Getenv(crashEnv); spec != "" {
		crashChild(t, spec)
		return
	}
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	t.Parallel()
	const n = 8000
	sink := newSink(t, nil, true)
	path := t.TempDir() + "/k.db"
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opt := crashOptions(sink.port)
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("c%d@d%d.example.jp", i, i%9)
	}
	m := newMailer(t, db, opt)
	if _, err := m.Snapshot(ctx, 1, 1, listSource(addrs)); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestCrashResume$", "-test.v")
	child.Env = append(os.Environ(), crashEnv+"="+path+"|"+strconv.Itoa(sink.port))
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sink.lm.Total() < n/3 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("child sent only %d in 60 s", sink.lm.Total())
		}
		time.Sleep(5 * time.Millisecond) // polling a child process, not timing
	}
	child.Process.Kill() // SIGKILL
	child.Wait()
	atKill := sink.lm.Total()
	if atKill >= n {
		t.Fatalf("child finished (%d) before the kill", atKill)
	}

	done := make(chan int64, 1)
	opt.OnIssueDone = func(ctx context.Context, id int64) { done <- id }
	m2 := newMailer(t, db, opt)
	rctx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- m2.Run(rctx) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("restarted engine did not finish")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	missing, dups := 0, 0
	for _, a := range addrs {
		switch c := sink.count(a); {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("killed after %d copies; duplicates %d (window %d)", atKill, dups, opt.InFlight)
	if missing != 0 {
		t.Errorf("%d recipients lost", missing)
	}
	if dups > opt.InFlight {
		t.Errorf("%d duplicates, more than the in-flight window %d", dups, opt.InFlight)
	}
	if p, _ := m2.Progress(ctx, 1); p.Sent != n {
		t.Errorf("progress %+v", p)
	}
}

// crashChild runs the engine until it is killed.
func crashChild(t *testing.T, spec string) {
	path, port, _ := strings.Cut(spec, "|")
	p, _ := strconv.Atoi(port)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(db, crashOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	m.Run(context.Background()) // until SIGKILL
}
