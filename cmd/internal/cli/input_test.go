package cli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSplitList(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"":                 nil,
		" , ":              nil,
		"chonai":           {"chonai"},
		"chonai, kodomo,,": {"chonai", "kodomo"},
	}
	for in, want := range cases {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"secret\nrest\n", "secret"},
		{"secret\r\n", "secret"},
		{"no newline", "no newline"},
		{"", ""},
	}
	for _, c := range cases {
		if got, err := ReadLine(strings.NewReader(c.in)); err != nil || got != c.want {
			t.Errorf("ReadLine(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	boom := errors.New("boom")
	if _, err := ReadLine(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("a failing reader: %v", err)
	}
}

func TestReadInput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.txt")
	os.WriteFile(path, []byte("from a file"), 0o600)
	cases := []struct {
		name, stdin, want string
		limit             int64
	}{
		{path, "ignored", "from a file", 3},
		{"-", "from stdin", "from stdin", 100},
		{"-", "from stdin", "from", 4},
	}
	for _, c := range cases {
		got, err := ReadInput(c.name, strings.NewReader(c.stdin), c.limit)
		if err != nil || string(got) != c.want {
			t.Errorf("ReadInput(%q) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := ReadInput(filepath.Join(t.TempDir(), "missing"), nil, 1); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}
