package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmpfs mounts a small tmpfs at a fresh directory (root only).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	needRoot(t, "to mount a tmpfs")
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last few bytes too
		for {
			if _, err := f.Write(block[:n]); err != nil {
				break
			}
		}
	}
	return path
}

func healthz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	code, body := get(t, base+"/healthz")
	var h map[string]string
	json.Unmarshal([]byte(body), &h)
	return code, h
}

// Issue 16 acceptance on a real full disk (a small tmpfs): the daemon
// keeps running, /healthz says disk-full, an import stops with a
// resumable record, and when space returns /healthz is ok again by
// itself, the import resumes, and each accepted subscription gets
// exactly one confirmation mail.
func TestIssue16DiskFullOnTmpfs(t *testing.T) {
	t.Parallel()
	dir := tmpfs(t, "24m")
	d := startDaemon(t, dir)
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range 40000 {
		fmt.Fprintf(&csv, "full%05d@example.jp,読者%d\n", i, i)
	}
	csvPath := filepath.Join(t.TempDir(), "big.csv") // not on the full disk
	os.WriteFile(csvPath, []byte(csv.String()), 0o600)

	filler := fill(t, dir)
	imp := runCLI(t, "", "import", "subscribers", "--data", dir, "--list", "kodomo-mirai", "--consent-source", "申込書", csvPath)
	if imp.Exit == 0 {
		t.Fatalf("import onto a full disk succeeded:\n%s", imp.Stdout)
	}
	t.Logf("import on the full disk: exit %d: %s", imp.Exit, strings.TrimSpace(imp.Stderr))
	// A subscription that cannot be written is refused, not half-taken;
	// the refusal tells Health.
	// The request is written before the answer (subscribe_intake); when
	// that write fails the request is refused, and when SQLite still finds
	// room for it the per-address work after the answer fails instead.
	// Either way Health learns of the full disk; from then on /subscribe
	// refuses everyone alike, and an accepted request is retried until
	// space returns.
	accepted := map[string]bool{}
	var full map[string]string
	for i := 0; i < 5 && full == nil; i++ {
		addr := fmt.Sprintf("citizen%d@example.jp", i)
		code, _ := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {addr}, "list": {"kodomo-mirai"}}, "")
		if code == 200 {
			accepted[addr] = true
		}
		for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
			if c, h := healthz(t, d.BaseURL); c == 503 && h["problem"] == "disk-full" {
				full = h
				break
			}
		}
	}
	if full == nil {
		code, h := healthz(t, d.BaseURL)
		t.Fatalf("/healthz with the data disk full: %d %v, want 503 disk-full", code, h)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, h := healthz(t, d.BaseURL)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz 30 s after space returned: %d %v", code, h)
		}
		time.Sleep(200 * time.Millisecond)
	}
	addr := "after@example.jp"
	if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {addr}, "list": {"kodomo-mirai"}}, ""); code != 200 {
		t.Fatalf("subscribe after space returned: %d %s", code, body)
	}
	accepted[addr] = true
	res := mustCLI(t, "import", "subscribers", "--data", dir, "--list", "kodomo-mirai", "--consent-source", "申込書", csvPath)
	if !strings.Contains(res.Stdout, "40000 rows") {
		t.Errorf("import after space returned: %s", res.Stdout)
	}
	waitUntil(t, "one confirmation per accepted subscription", func() bool {
		for a := range accepted {
			if len(mailsTo(readCaptured(t, dir), a, "")) < 1 {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // a second copy would come now
	for a := range accepted {
		if n := len(mailsTo(readCaptured(t, dir), a, "")); n != 1 {
			t.Errorf("%s: %d confirmation mails, want 1", a, n)
		}
	}
	// Repeated errors are logged once a minute with a count, not per try.
	errLines := 0
	for _, l := range strings.Split(d.out.String(), "\n") {
		if strings.Contains(l, "ERROR") {
			errLines++
		}
	}
	t.Logf("%d ERROR lines in the daemon's log", errLines)
	if errLines > 30 {
		t.Errorf("%d ERROR lines in the daemon's log during a few seconds of full disk:\n%s", errLines, d.out.String())
	}
	rows := exportSubscribers(t, dir, "kodomo-mirai")
	if n := len(rows); n < 40000 {
		t.Errorf("%d subscribers on the list after the resumed import, want the file's 40000 and more", n)
	}
	d.stop(t)
}
