//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Scenario 8 (issue 20): the disk is lost while an issue is being sent.
// The daemon replicates with Litestream to a file replica, configured
// with deploy/litestream.yml; mid-send both processes are killed at once
// and the data directory is deleted; the database comes back with
// `litestream restore` and `kawaraban restore`, and the daemon starts
// again. It reports how many seconds of acknowledged subscribes were lost
// and checks that every recipient got the issue once, or twice within
// the documented duplicate window (docs/OPERATING.md).
const (
	lsRecipients  = 3000
	lsRatePerSec  = 300 // sending.rate_per_second: the send lasts about 10 s
	lsWorkers     = 2
	lsBatchSize   = 20
	lsSubscribeMS = 40 // one subscribe every 40 ms while the issue goes out
)

func litestreamScenario(t *testing.T) {
	bin := litestreamBinary(t)
	k := startSink(t, "127.0.0.1:0")
	d := newDaemon(t, daemonOptions{SMTPPort: k.port(), Workers: lsWorkers, BatchSize: lsBatchSize})
	dataDir := filepath.Join(d.dir, "data")
	dbPath := filepath.Join(dataDir, "kawaraban.db")
	replica := filepath.Join(d.dir, "replica")
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	editConfig(t, d.cfgPath, map[string]string{
		"  path: " + filepath.Join(d.dir, "kawaraban.db") + "\n": "  path: " + dbPath + "\n",
		"sending:\n": fmt.Sprintf("sending:\n  rate_per_second: %d\n", lsRatePerSec),
	})
	lsConfig := litestreamConfig(t, d.dir, dbPath, replica)

	d.start()
	d.login()
	tag := nonce()
	addrs := recipients(lsRecipients, tag)
	d.importSubscribers(listSlug, addrs)
	ls := startLitestream(t, bin, lsConfig, d.dir)
	// The first snapshot must be on the replica before the test means anything.
	if !waitFor(30*time.Second, 100*time.Millisecond, func() bool { return replicaFiles(replica) > 0 }) {
		d.fatalf("litestream wrote nothing to %s within 30s:\n%s", replica, ls.log())
	}

	id := d.createIssue(listSlug, "かわら版 e2e litestream "+tag, "ディスクを失っても配信は続きます。\n")
	subs := startSubscribing(d.base, tag)
	d.sendIssue(id)
	if !waitFor(60*time.Second, 10*time.Millisecond, func() bool { return k.Total() >= lsRecipients*2/5 }) {
		d.fatalf("sink received %d messages within 60s, want %d before the disk is lost", k.Total(), lsRecipients*2/5)
	}

	// The machine dies: Litestream first (the worst order for us), then
	// the daemon, then the disk.
	crash := time.Now()
	ls.kill9()
	d.kill9()
	acked := subs.stop(crash)
	atCrash := k.Total()
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	t.Logf("disk lost %d messages into the send (%d subscribes acknowledged)", atCrash, len(acked))

	// A new disk: restore from the replica, check and install, start.
	restored := filepath.Join(d.dir, "from-replica.db")
	start := time.Now()
	out, err := exec.Command(bin, "restore", "-config", lsConfig, "-o", restored, dbPath).CombinedOutput()
	if err != nil {
		d.fatalf("litestream restore: %v\n%s", err, out)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	t.Logf("kawaraban restore: %s", strings.TrimSpace(d.cli("", []string{"restore"}, restored)))
	t.Logf("restored in %s", time.Since(start).Round(time.Millisecond))
	d.start()
	// The restored machine is the primary now: it replicates again, to the
	// same replica (docs/OPERATING.md, "A second machine takes over").
	ls = startLitestream(t, bin, lsConfig, d.dir)

	// Acknowledged writes lost: subscribes answered 200 before the crash
	// that the restored database does not have. /subscribe writes each
	// request to subscribe_intake before answering; those the replica got
	// but whose work the crash cut off are done by the restored daemon
	// about 200 ms after its start, so wait for them before counting.
	var lost []ackedSubscribe
	waitFor(5*time.Second, 250*time.Millisecond, func() bool {
		have := d.export(listSlug)
		lost = lost[:0]
		for _, a := range acked {
			if _, ok := have[strings.ToLower(a.addr)]; !ok {
				lost = append(lost, a)
			}
		}
		return len(lost) == 0
	})
	lostSeconds := 0.0
	if len(lost) > 0 {
		lostSeconds = crash.Sub(lost[0].at).Seconds()
	}
	target := "met"
	if lostSeconds > 1 {
		target = "NOT met"
	}
	t.Logf("FIGURE litestream: acknowledged subscribes lost: %d of %d, %.2f s of writes (target <= 1 s: %s)", len(lost), len(acked), lostSeconds, target)
	if lostSeconds > 5 {
		d.errorf("%.2f s of acknowledged subscribes lost (%d): replication is not keeping up", lostSeconds, len(lost))
	}

	is := d.waitSent(id, 120*time.Second)
	missing, dups := tally(addrs, k)
	if len(missing) > 0 {
		d.errorf("%d recipient(s) never received the issue: %s", len(missing), firstFew(missing))
	}
	// Documented window: the in-flight window, plus what was sent in the
	// seconds of writes the replica had not yet received.
	allowed := d.window() + int(math.Ceil(float64(lsRatePerSec)*(lostSeconds+0.5)))
	t.Logf("FIGURE litestream: duplicates %d (allowed: in-flight window %d + %d/s × (%.2f s lost + 0.5 s) = %d); counts %v",
		dups, d.window(), lsRatePerSec, lostSeconds, allowed, is.Counts)
	if dups > allowed {
		d.errorf("%d duplicate copies after restoring from the replica, want at most %d", dups, allowed)
	}
	if is.Counts["sent"] != lsRecipients {
		d.errorf("counts %v: sent %d, want %d", is.Counts, is.Counts["sent"], lsRecipients)
	}
	replicatesAfterRestore(t, d, bin, lsConfig, dbPath, ls, tag)
}

// replicatesAfterRestore checks that the replica follows the restored
// database: a subscribe made after the restore is in a second restore.
func replicatesAfterRestore(t *testing.T, d *daemon, bin, lsConfig, dbPath string, ls *litestreamProc, tag string) {
	t.Helper()
	addr := "after-restore-" + tag + "@sink.test"
	resp, err := http.PostForm(d.base+"/subscribe", url.Values{"email": {addr}, "list": {listSlug}})
	if err != nil || resp.StatusCode != http.StatusOK {
		d.fatalf("subscribe after the restore: %v %v", err, resp)
	}
	resp.Body.Close()
	// /subscribe answers once the request is written (the intake does
	// the per-address work a moment later, so every address costs the
	// same); wait until the restored database has the subscriber.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, ok := d.export(listSlug)[strings.ToLower(addr)]; ok {
			break
		}
		if time.Now().After(deadline) {
			d.fatalf("%s was answered but never written to the restored database", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ls.stop() // SIGTERM: Litestream ships what it has not shipped yet
	second := filepath.Join(d.dir, "second.db")
	if out, err := exec.Command(bin, "restore", "-config", lsConfig, "-o", second, dbPath).CombinedOutput(); err != nil {
		d.fatalf("second litestream restore: %v\n%s\n%s", err, out, ls.log())
	}
	dir := filepath.Join(d.dir, "second")
	cmd := exec.Command(binary, "restore", "--data", dir, second)
	if out, err := cmd.CombinedOutput(); err != nil {
		d.fatalf("kawaraban restore --data %s: %v\n%s", dir, err, out)
	}
	out, err := exec.Command(binary, "export", "subscribers", "--data", dir, "--list", listSlug).CombinedOutput()
	if err != nil {
		d.fatalf("export from the second restore: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), addr) {
		d.errorf("the replica does not follow the restored database: %s (subscribed after the restore) is not in a second restore\n%s", addr, ls.log())
	}
}

// litestreamReplicaConfigs checks that the SFTP and S3 replicas
// described in deploy/litestream.yml, once uncommented, load in
// Litestream as replicas of that type. The network has no SFTP or S3
// server to replicate to, and Litestream ignores unknown keys, so this
// catches YAML, URL and value mistakes, not misspelt key names.
func litestreamReplicaConfigs(t *testing.T) {
	bin := litestreamBinary(t)
	b, err := os.ReadFile("../deploy/litestream.yml")
	if err != nil {
		t.Fatal(err)
	}
	file := "      type: file\n      path: /srv/kawaraban-replica\n"
	for kind, lines := range map[string][]string{
		"sftp": {"url: sftp://", "key-path:"},
		"s3":   {"url: s3://", "region:", "endpoint:", "force-path-style:"},
	} {
		s := string(b)
		if !strings.Contains(s, file) {
			t.Fatalf("deploy/litestream.yml no longer has the file replica %q", file)
		}
		s = strings.Replace(s, file, "", 1)
		for _, l := range lines {
			if !strings.Contains(s, "      # "+l) {
				t.Fatalf("deploy/litestream.yml has no commented %q for the %s replica", l, kind)
			}
			s = strings.Replace(s, "      # "+l, "      "+l, 1)
		}
		path := filepath.Join(t.TempDir(), kind+".yml")
		os.WriteFile(path, []byte(s), 0o644)
		cmd := exec.Command(bin, "databases", "-config", path)
		cmd.Env = append(os.Environ(), "CREDENTIALS_DIRECTORY=/run/credentials/litestream.service")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/var/lib/kawaraban/kawaraban.db") || !strings.Contains(string(out), kind) {
			t.Errorf("litestream databases with the %s replica of deploy/litestream.yml: %v\n%s", kind, err, out)
		}
	}
}

// litestreamBinary finds litestream (e2e/run.sh installs it), or fails.
func litestreamBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KAWARABAN_LITESTREAM"); p != "" {
		return p
	}
	p, err := exec.LookPath("litestream")
	if err != nil {
		t.Fatal("litestream is missing: e2e/run.sh installs it (go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.17)")
	}
	return p
}

// litestreamConfig writes deploy/litestream.yml with this test's paths.
func litestreamConfig(t *testing.T, dir, dbPath, replica string) string {
	t.Helper()
	b, err := os.ReadFile("../deploy/litestream.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, new := range map[string]string{"/var/lib/kawaraban/kawaraban.db": dbPath, "/srv/kawaraban-replica": replica} {
		if !strings.Contains(s, old) {
			t.Fatalf("deploy/litestream.yml no longer mentions %s", old)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	path := filepath.Join(dir, "litestream.yml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// editConfig replaces text in the daemon's config; each old must be there.
func editConfig(t *testing.T, path string, edits map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, new := range edits {
		if !strings.Contains(s, old) {
			t.Fatalf("config %s has no %q", path, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replicaFiles counts the files Litestream has written to a file replica.
func replicaFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// litestreamProc is `litestream replicate` running in the background.
type litestreamProc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	mu     *sync.Mutex
	exited chan struct{}
}

func startLitestream(t *testing.T, bin, config, dir string) *litestreamProc {
	t.Helper()
	p := &litestreamProc{out: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "replicate", "-config", config)
	p.cmd.Dir = dir
	w := lockedWriter{p.mu, p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting litestream: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill9()
		if dir := os.Getenv("KAWARABAN_ARTIFACTS"); dir != "" {
			name := fmt.Sprintf("TestE2E_litestream-litestream-%d.log", p.cmd.Process.Pid)
			os.WriteFile(filepath.Join(dir, name), []byte(p.log()), 0o644)
		}
	})
	return p
}

// stop ends Litestream with SIGTERM and waits up to 40 s.
func (p *litestreamProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		p.kill9()
	}
}

func (p *litestreamProc) kill9() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
}

func (p *litestreamProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// ackedSubscribe is one subscribe the daemon answered 200 to, and when.
type ackedSubscribe struct {
	addr string
	at   time.Time
}

// subscriber posts the public subscribe form at a steady pace.
type subscriber struct {
	mu    sync.Mutex
	acked []ackedSubscribe
	quit  chan struct{}
	done  chan struct{}
}

func startSubscribing(base, tag string) *subscriber {
	s := &subscriber{quit: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(lsSubscribeMS * time.Millisecond)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
			addr := fmt.Sprintf("sub%04d-%s@sink.test", i, tag)
			resp, err := client.PostForm(base+"/subscribe", url.Values{"email": {addr}, "list": {listSlug}})
			if err != nil {
				continue
			}
			at := time.Now()
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.mu.Lock()
				s.acked = append(s.acked, ackedSubscribe{addr, at})
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// stop ends the loop and returns the subscribes acknowledged before crash,
// oldest first.
func (s *subscriber) stop(crash time.Time) []ackedSubscribe {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ackedSubscribe
	for _, a := range s.acked {
		if a.at.Before(crash) {
			out = append(out, a)
		}
	}
	return out
}
