package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The daemon tests run the real binary, as an operator would.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func kawarabanBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kawaraban-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kawaraban")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building kawaraban: %v", buildErr)
	}
	return binPath
}

// daemonProc is a running `kawaraban serve`.
type daemonProc struct {
	cmd     *exec.Cmd
	BaseURL string
	Data    string
	out     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRe = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// startDaemon starts local mode in dir and waits for its address.
func startDaemon(t *testing.T, dir string, extra ...string) *daemonProc {
	t.Helper()
	args := append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(kawarabanBinary(t), args...)
	cmd.Env = append(os.Environ(), "KAWARABAN_CONFIG=")
	stdout, _ := cmd.StdoutPipe()
	errs := &syncBuffer{}
	cmd.Stderr = errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, Data: dir, out: errs}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			errs.Write([]byte(sc.Text() + "\n"))
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case d.BaseURL = <-found:
	case <-time.After(60 * time.Second):
		t.Fatalf("daemon did not start; output:\n%s", errs.String())
	}
	return d
}

// stop sends SIGTERM and returns the exit code and how long it took.
func (d *daemonProc) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("daemon ignored SIGTERM; output:\n%s", d.out.String())
	}
	return d.cmd.ProcessState.ExitCode(), time.Since(start)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLocalModeStartAndStop(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	code, body := get(t, d.BaseURL+"/healthz")
	var h map[string]string
	if code != 200 || json.Unmarshal([]byte(body), &h) != nil || h["status"] != "ok" {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	code, body = get(t, d.BaseURL+"/metrics")
	if code != 200 || !strings.Contains(body, "kawaraban_") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d, no kawaraban_ or Go runtime series", code)
	}
	if !strings.Contains(d.out.String(), "captured") {
		t.Errorf("local mode must say loudly that mail is captured; output:\n%s", d.out.String())
	}
	exit, took := d.stop(t)
	if exit != 0 {
		t.Fatalf("exit code %d after SIGTERM; output:\n%s", exit, d.out.String())
	}
	t.Logf("stopped in %s", took)
}

func TestPortInUse(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	addr := strings.TrimPrefix(d.BaseURL, "http://")
	out, err := exec.Command(kawarabanBinary(t), "serve", "--data", t.TempDir(), "--listen", addr).CombinedOutput()
	if err == nil {
		t.Fatal("second daemon on the same port started")
	}
	if !strings.Contains(string(out), addr) {
		t.Fatalf("error does not name the address: %s", out)
	}
}

func TestDataDirNotWritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "plainfile")
	os.WriteFile(file, []byte("x"), 0o600)
	out, err := exec.Command(kawarabanBinary(t), "serve", "--data", filepath.Join(file, "sub"), "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), file) {
		t.Fatalf("err %v, output %s", err, out)
	}
}

func TestCorruptDatabaseRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := []byte(strings.Repeat("not a database ", 500))
	os.WriteFile(filepath.Join(dir, "kawaraban.db"), junk, 0o600)
	out, err := exec.Command(kawarabanBinary(t), "serve", "--data", dir, "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "kawaraban.db") {
		t.Fatalf("err %v, output %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "kawaraban.db")); string(b) != string(junk) {
		t.Fatal("corrupt database was overwritten")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("exit %v", err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(kawarabanBinary(t), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "kawaraban ") {
		t.Fatalf("%v %q", err, out)
	}
}

func TestUnknownCommandExits2(t *testing.T) {
	t.Parallel()
	err := exec.Command(kawarabanBinary(t), "frobnicate").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2", err)
	}
}

func TestSecondDaemonOnSameDataRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startDaemon(t, dir)
	out, err := exec.Command(kawarabanBinary(t), "serve", "--data", dir, "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("second daemon: %v %s", err, out)
	}
}

func TestCommandRefusesMissingDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "typo")
	out, err := exec.Command(kawarabanBinary(t), "export", "subscribers", "--data", dir, "--list", "shimin-katsudo").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), dir) {
		t.Fatalf("exit %v, output %s", err, out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the mistyped data directory was created")
	}
}
