package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
