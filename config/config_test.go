package config

import (
	"os"
	"strings"
	"testing"
)

func TestExampleConfigIsValid(t *testing.T) {
	t.Parallel()
	c, err := Load("../config.example.yaml")
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if c.SMTP.Port != 587 || c.Timezone != "Asia/Tokyo" || len(c.Lists) == 0 {
		t.Fatalf("unexpected decode: %+v", c)
	}
}

// exampleWith returns config.example.yaml with one line replaced.
func exampleWith(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, old) {
		t.Fatalf("example has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestConfigBadValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, old, new string
		want           []string // every problem must be named
	}{
		{"smtp port zero (issue 2)", "  port: 587\n", "  port: 0\n", []string{"smtp.port: must be 1-65535, got 0"}},
		{"smtp port too big", "  port: 587\n", "  port: 70000\n", []string{"smtp.port: must be 1-65535, got 70000"}},
		{"smtp port not a number", "  port: 587\n", "  port: abc\n", []string{"smtp.port:"}},
		{"smtp tls", "  tls: starttls\n", "  tls: ssl\n", []string{`smtp.tls: must be none, starttls or tls, got "ssl"`}},
		{"imap tls", "  tls: tls\n", "  tls: yes\n", []string{"imap.tls:"}},
		{"unknown top-level key", "timezone: Asia/Tokyo\n", "timezone: Asia/Tokyo\ntimezon: x\n", []string{"timezon: unknown key"}},
		{"unknown nested key", "  port: 587\n", "  port: 587\n  prot: 25\n", []string{"smtp.prot: unknown key"}},
		{"unknown list key", "    kind: public\n", "    kind: public\n    knd: x\n", []string{"lists[0].knd: unknown key"}},
		{"bad timezone", "timezone: Asia/Tokyo\n", "timezone: Mars/Olympus\n", []string{`timezone: unknown time zone "Mars/Olympus"`}},
		{"bad base_url", "base_url: https://mail.city.example.jp\n", "base_url: mail.city.example.jp\n", []string{"base_url:"}},
		{"bad duration", "  poll_interval: 1m\n", "  poll_interval: often\n", []string{"imap.poll_interval:"}},
		{"list kind", "    kind: public\n", "    kind: secret\n", []string{"lists[0].kind:"}},
		{"list encoding", "    encoding: utf-8\n", "    encoding: sjis\n", []string{"lists[0].encoding:"}},
		{"window time", `    from: ""`, `    from: "25:00"`, []string{"sending.window.from:", "sending.window.to:"}},
		{"missing return path", "  return_path_domain: bounces.city.example.jp\n", "  return_path_domain: \"\"\n", []string{"bounce.return_path_domain:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(exampleWith(t, tc.old, tc.new)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigListsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	src := exampleWith(t, "  port: 587\n", "  port: 0\n")
	src = strings.Replace(src, "timezone: Asia/Tokyo\n", "timezone: Nowhere/Land\n", 1)
	src = strings.Replace(src, "  tls: tls\n", "  tls: maybe\n", 1)
	_, err := Parse(strings.NewReader(src))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, k := range []string{"smtp.port:", "timezone:", "imap.tls:"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("missing %s in %v", k, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../config.example.yaml")
	f.Add(string(b))
	f.Add("smtp: {port: -1}\n")
	f.Add("lists: [{slug: A}]\n")
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse(strings.NewReader(src))
		if err == nil && c.Validate() != nil {
			t.Fatal("Parse accepted a config that Validate refuses")
		}
	})
}
