package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// toCRLF converts LF line ends to CRLF, as IMAP delivers messages.
func toCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// toLF converts CRLF line ends to LF.
func toLF(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// sameOutcome compares what matters of two reports for line-end variants.
func sameOutcome(a, b *Report) bool {
	type row struct{ addr, status, class, reason string }
	rows := func(r *Report) []row {
		var out []row
		for _, x := range r.Recipients {
			out = append(out, row{x.Address, x.Status, string(x.Class), x.Reason})
		}
		return out
	}
	return a.Class == b.Class && reflect.DeepEqual(rows(a), rows(b)) && a.OriginalMessageID == b.OriginalMessageID
}

// checkLineEnds parses every .eml under dir with LF and with CRLF line
// ends and fails when the outcome differs or parsing fails.
func checkLineEnds(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lf, err := Parse(toLF(raw))
		if err != nil {
			t.Errorf("%s (LF): %v", filepath.Base(f), err)
			continue
		}
		crlf, err := Parse(toCRLF(raw))
		if err != nil {
			t.Errorf("%s (CRLF): %v", filepath.Base(f), err)
			continue
		}
		if !sameOutcome(lf, crlf) {
			t.Errorf("%s: LF and CRLF differ:\n LF   %+v\n CRLF %+v", filepath.Base(f), lf.Recipients, crlf.Recipients)
		}
	}
}
