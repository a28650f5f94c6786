package classify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFiles: the lines of every file that can be read and classified
// are written, in order; each of the others is a *FileError with the text
// `kawaraban bounce classify` has always printed.
func TestWriteFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.eml")
	if err := os.WriteFile(bad, []byte("A: b\nbad line\n\nbody"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown := "testdata/own/docomo-unknown.eml"
	reply := "testdata/own/citizen-reply.eml"
	missing := filepath.Join(dir, "missing.eml")
	cases := []struct {
		name   string
		paths  []string
		json   bool
		lines  []string // each line's prefix
		errors []string // each skipped file's error's prefix
	}{
		{"tsv", []string{unknown, reply}, false,
			[]string{unknown + "\t", reply + "\t\t\t"}, nil},
		{"json", []string{unknown}, true, []string{`{"file":"` + unknown + `","recipient":`}, nil},
		{"bad files are skipped", []string{missing, unknown, bad}, false, []string{unknown + "\t"},
			[]string{"open " + missing + ": no such file or directory",
				bad + ": classifying message: unreadable message"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := WriteFiles(&out, c.paths, c.json)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(c.lines) {
				t.Fatalf("output:\n%s\nwant %d lines", out.String(), len(c.lines))
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, c.lines[i]) {
					t.Errorf("line %d = %q, want prefix %q", i, l, c.lines[i])
				}
			}
			var got []error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				got = j.Unwrap()
			}
			if len(got) != len(c.errors) {
				t.Fatalf("errors: %v, want %q", err, c.errors)
			}
			for i, e := range got {
				var fe *FileError
				if !errors.As(e, &fe) || !strings.HasPrefix(e.Error(), c.errors[i]) {
					t.Errorf("error %d = %#v %q, want a *FileError %q", i, e, e, c.errors[i])
				}
			}
		})
	}
}

// failingWriter refuses every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// An error writing the output stops at once and is no *FileError.
func TestWriteFilesWriteError(t *testing.T) {
	t.Parallel()
	err := WriteFiles(failingWriter{}, []string{"testdata/own/docomo-unknown.eml", "missing.eml"}, false)
	var fe *FileError
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error: %v", err)
	}
}
