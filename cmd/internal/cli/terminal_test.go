package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		err  string
	}{
		{"", time.Time{}, ""},
		{"  ", time.Time{}, ""},
		{"90d", now.AddDate(0, 0, 90), ""},
		{"720h", now.Add(720 * time.Hour), ""},
		{"2027-01-01T00:00:00+09:00", time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 9*3600)), ""},
		{"0d", time.Time{}, `--expires "0d": want a positive number of days such as 90d`},
		{"xd", time.Time{}, `--expires "xd": want a positive number of days such as 90d`},
		{"-1h", time.Time{}, `--expires "-1h": must be in the future`},
		{"2020-01-01T00:00:00Z", time.Time{}, `--expires "2020-01-01T00:00:00Z": must be in the future`},
		{"tomorrow", time.Time{}, `--expires "tomorrow": want 90d, 720h or an RFC 3339 time`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpiry(c.in, now)
			if c.err != "" {
				if err == nil || err.Error() != c.err || !errors.Is(err, ErrUsage) {
					t.Errorf("ParseExpiry(%q) = %v, %v; want usage error %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || !got.Equal(c.want) {
				t.Errorf("ParseExpiry(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

func TestTimeOrNever(t *testing.T) {
	t.Parallel()
	if got := TimeOrNever(time.Time{}); got != "never" {
		t.Errorf("zero: %q", got)
	}
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	if got := TimeOrNever(at); got != "2026-12-05T09:00:00+09:00" {
		t.Errorf("time: %q", got)
	}
}

func TestBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	b := &Bar{w: &buf}            // as NewBar makes it on a terminal
	b.Show("checking rows", 0, 0) // an empty file: nothing to show
	b.Show("checking rows", 50, 200)
	b.Show("writing 3/3 rows", 3, 3)
	b.Clear()
	b.Clear() // nothing shown since: nothing written
	want := "\r\x1b[Kchecking rows  25%\r\x1b[Kwriting 3/3 rows 100%\r\x1b[K"
	if buf.String() != want {
		t.Errorf("bar wrote %q, want %q", buf.String(), want)
	}
}

func TestNotATerminal(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []any{f, &buf} {
		if IsTerminal(w.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("%T is a terminal?", w)
		}
	}
	b := NewBar(f)
	b.Show("checking rows", 1, 2)
	b.Clear()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("a bar on a file wrote %d bytes", st.Size())
	}
	NewLogger("info", "", f).Info("hello", "k", 1)
	b2, _ := os.ReadFile(f.Name())
	if !strings.HasPrefix(string(b2), `{"time":`) {
		t.Errorf("auto format on a file is not JSON: %q", b2)
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	cases := []struct {
		level, format string
		debugShown    bool
		prefix        string
	}{
		{"info", "text", false, "time="},
		{"debug", "json", true, `{"time":`},
		{"nonsense", "auto", false, `{"time":`}, // a buffer is no terminal
	}
	for _, c := range cases {
		t.Run(c.level+"/"+c.format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := NewLogger(c.level, c.format, &buf)
			log.Debug("d")
			if got := buf.Len() > 0; got != c.debugShown {
				t.Errorf("debug shown %v, want %v", got, c.debugShown)
			}
			buf.Reset()
			log.Info("i")
			if !strings.HasPrefix(buf.String(), c.prefix) {
				t.Errorf("info line %q, want prefix %q", buf.String(), c.prefix)
			}
		})
	}
}

func TestBox(t *testing.T) {
	t.Parallel()
	got := Box([]string{"LOCAL MODE", "listening on http://127.0.0.1:8080"})
	want := "+------------------------------------+\n" +
		"| LOCAL MODE                         |\n" +
		"| listening on http://127.0.0.1:8080 |\n" +
		"+------------------------------------+\n"
	if got != want {
		t.Errorf("Box:\n%s\nwant:\n%s", got, want)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"devel, no VCS", debug.BuildInfo{GoVersion: "go1.26"}, "kawaraban (devel) go1.26"},
		{"clean checkout", debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-05T00:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"kawaraban v1.2.0 abc123 2026-12-05T00:00:00Z go1.26"},
		{"dirty", debug.BuildInfo{GoVersion: "go1.26",
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"kawaraban (devel) abc123+dirty go1.26"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := version("kawaraban", &c.bi); got != c.want {
				t.Errorf("version = %q, want %q", got, c.want)
			}
		})
	}
	if got := Version("kawaraban"); !strings.HasPrefix(got, "kawaraban ") {
		t.Errorf("Version = %q", got)
	}
}
