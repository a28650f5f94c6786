package bounces

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// corpusFiles returns the real bounces of ../shared/corpus/bounces (see its
// README), found beside the repository or one of its parents (a worktree
// under /work/wt/NAME finds /work/shared), or skips when the corpus is
// absent and KAWARABAN_REQUIRE_ALL is not set.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for dir, _ := os.Getwd(); len(files) == 0 && dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		files, _ = filepath.Glob(filepath.Join(dir, "shared", "corpus", "bounces", "maildir", "*", "*.eml"))
	}
	if len(files) == 0 {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatal("../shared/corpus/bounces is missing")
		}
		t.Skip("../shared/corpus/bounces is absent")
	}
	return files
}

// TestCorpusThroughIMAP reads every real bounce of the corpus through the
// IMAP reader: none fails, each is either recorded or left for staff, and a
// second poll finds nothing new. Classification accuracy is measured in
// package classify.
func TestCorpusThroughIMAP(t *testing.T) {
	t.Parallel()
	files := corpusFiles(t)
	ms := startIMAP(t, TLSNone)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ms.put(t, "INBOX", string(b))
	}
	s := newService(t, ms, newRecorder(), Options{})
	ctx := context.Background()
	st, err := s.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fetched != len(files) || st.Bounces+st.NotOurs+st.Duplicates+st.Commands != len(files) {
		t.Errorf("stats %+v for %d files", st, len(files))
	}
	t.Logf("%d files: %+v", len(files), st)
	if st, err := s.PollOnce(ctx); err != nil || st.Fetched != 0 {
		t.Errorf("second poll %+v, %v; want nothing", st, err)
	}
}
