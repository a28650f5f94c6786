package classify

import (
	"strings"
	"testing"
)

// TestHostileInput runs shapes that once made the classifier quadratic
// (thousands of addresses on one line, thousands of DSN recipients with a
// long human part) or that stress the MIME reader. They must parse without
// error; the benchmark and fuzzing watch the time.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	bounce := "From: MAILER-DAEMON@x.example.org\nSubject: Undelivered Mail\n\n"
	dsnHead := "From: MAILER-DAEMON@x.example.org\nContent-Type: multipart/report; boundary=b\n\n"
	cases := []struct {
		name     string
		in       string
		minRcpts int
	}{
		{"addresses on one line", bounce + strings.Repeat("a@b.example.com ", 5000), 1},
		{"many address lines", bounce + strings.Repeat("a1@b.example.com x2@y.example.org: 550 5.1.1 user unknown\n", 2000), 2},
		{"status-like numbers", bounce + strings.Repeat("1.5.1.1.", 20000), 0},
		{"many DSN recipients", dsnHead + "--b\nContent-Type: text/plain\n\n" + strings.Repeat("line\n", 5000) +
			"--b\nContent-Type: message/delivery-status\n\n" +
			strings.Repeat("Final-Recipient: rfc822; a@b.example.com\nAction: failed\nStatus: 5.1.1\n\n", 500) + "--b--\n", 500},
		{"nested multiparts", "Content-Type: multipart/mixed; boundary=a\n\n" + strings.Repeat("--a\nContent-Type: multipart/mixed; boundary=a\n\n", 1000), 0},
		{"unterminated tags", "From: MAILER-DAEMON@x.example.org\nContent-Type: text/html\nSubject: Undelivered\n\n" + strings.Repeat("<", 100000), 0},
		{"long line", bounce + strings.Repeat("x", 1<<20), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(rep.Recipients) < c.minRcpts {
				t.Errorf("%d recipients, want at least %d", len(rep.Recipients), c.minRcpts)
			}
		})
	}
}
