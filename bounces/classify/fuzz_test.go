package classify

import (
	"os"
	"path/filepath"
	"testing"
)

// seedFiles lists the testdata messages used as fuzz seeds and benchmark
// input.
func seedFiles(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, pat := range []string{"testdata/own/*.eml", "testdata/corpus/maildir/*/*.eml"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

var validClass = map[Class]bool{Hard: true, Soft: true, AutoReply: true, Complaint: true, Delivered: true, Other: true}

// FuzzParse checks that no input panics (the recover in Parse is bypassed
// here) and that every report is well formed. Crashers found are kept in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := readMessage(raw)
		if err != nil {
			return
		}
		rep := classifyMessage(m)
		if !validClass[rep.Class] {
			t.Fatalf("invalid class %q", rep.Class)
		}
		for _, r := range rep.Recipients {
			if !validClass[r.Class] {
				t.Fatalf("recipient %q has invalid class %q", r.Address, r.Class)
			}
			if (r.Class == Hard || r.Class == Soft) && len(r.Status) < 5 {
				t.Fatalf("failed recipient %q without status", r.Address)
			}
		}
		if rep.Class == Other && rep.Format == "" && len(rep.Recipients) > 0 {
			t.Fatalf("non-bounce with recipients: %+v", rep.Recipients)
		}
	})
}
