package classify

import (
	"path/filepath"
	"testing"
)

// TestSelection measures the classifier on the attributed selection of the
// corpus kept in testdata, so that `go test ./...` checks it without
// ../shared.
func TestSelection(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "corpus")
	s := evaluate(t, dir, readLabels(t, filepath.Join(dir, "labels.tsv")))
	s.report(t)
	for _, m := range s.mistakes {
		t.Errorf("mistake: %s", m)
	}
	t.Run("line ends", func(t *testing.T) {
		t.Parallel()
		checkLineEnds(t, filepath.Join(dir, "maildir", "bsd"))
		checkLineEnds(t, filepath.Join(dir, "maildir", "not"))
	})
}
