package classify

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// label is one row of a labels.tsv (see ../shared/corpus/bounces/README.md).
type label struct {
	file, recipient, status, reason, class string
	index                                  int
	jp                                     bool // Japanese carrier or MTA, or a Japanese charset
}

// readLabels reads the first five columns and the index of labels.tsv.
func readLabels(t *testing.T, path string) []label {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening labels: %v", err)
	}
	defer f.Close()
	var out []label
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 || c[0] == "file" {
			continue
		}
		l := label{file: c[0], recipient: c[1], status: c[2], reason: c[3], class: c[4], index: 1}
		if len(c) > 5 {
			fmt.Sscan(c[5], &l.index)
		}
		if len(c) > 10 {
			l.jp = c[10] == "yes"
		}
		out = append(out, l)
	}
	return out
}

// scores are the corpus measures reported in docs/BOUNCES.md.
type scores struct {
	rows, rcptRows, rcptOK, statusRows, statusOK, classOK int
	reasonRows, reasonOK                                  int
	tp, fp, fn                                            map[string]int
	mistakes                                              []string
	bySender                                              map[string]int
}

func (s *scores) pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

// statusMatches applies the evaluator's rule: exact, or x.0.0 for
// sisimai's x.0.9NN pseudo codes.
func statusMatches(want, got string) bool {
	if strings.EqualFold(want, got) {
		return true
	}
	p := strings.Split(want, ".")
	if len(p) == 3 && p[1] == "0" && len(p[2]) == 3 && p[2][0] == '9' {
		return got == p[0]+".0.0"
	}
	return false
}

// evaluate classifies every labelled file under dir and scores it.
func evaluate(t *testing.T, dir string, labels []label) *scores {
	t.Helper()
	s := &scores{tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}, bySender: map[string]int{}}
	reports := map[string]*Report{}
	for _, l := range labels {
		rep, ok := reports[l.file]
		if !ok {
			raw, err := os.ReadFile(filepath.Join(dir, l.file))
			if err != nil {
				t.Fatalf("reading %s: %v", l.file, err)
			}
			rep, err = Parse(raw)
			if err != nil {
				t.Errorf("%s: %v", l.file, err)
				rep = &Report{Class: Other}
			}
			reports[l.file] = rep
		}
		s.score(l, rep)
	}
	return s
}

// pick returns the predicted recipient for a label: same address, else
// the one at the label's index, else none.
func pick(l label, rep *Report) (Recipient, bool, bool) {
	for _, r := range rep.Recipients {
		if l.recipient != "" && strings.EqualFold(r.Address, l.recipient) {
			return r, true, true
		}
	}
	if l.index >= 1 && l.index <= len(rep.Recipients) {
		return rep.Recipients[l.index-1], true, false
	}
	return Recipient{Class: rep.Class}, false, false
}

func (s *scores) score(l label, rep *Report) {
	s.rows++
	r, found, same := pick(l, rep)
	got := string(r.Class)
	if !found || l.recipient == "" {
		got = string(rep.Class)
	}
	var why []string
	if l.recipient != "" {
		s.rcptRows++
		if same {
			s.rcptOK++
		} else {
			why = append(why, fmt.Sprintf("rcpt %q", r.Address))
		}
	}
	if l.status != "" {
		s.statusRows++
		if statusMatches(l.status, r.Status) {
			s.statusOK++
		} else {
			why = append(why, fmt.Sprintf("status %s≠%s", r.Status, l.status))
		}
	}
	if l.reason != "notbounce" {
		s.reasonRows++
		if r.Reason == l.reason {
			s.reasonOK++
		}
	}
	if got == l.class {
		s.classOK++
		s.tp[l.class]++
	} else {
		s.fp[got]++
		s.fn[l.class]++
		why = append(why, fmt.Sprintf("class %s≠%s (%s≠%s)", got, l.class, r.Reason, l.reason))
	}
	if len(why) > 0 {
		key := strings.TrimSuffix(filepath.Base(l.file), ".eml")
		key = strings.TrimRight(key, "0123456789")
		key = strings.TrimSuffix(key, "-")
		s.bySender[key]++
		s.mistakes = append(s.mistakes, fmt.Sprintf("%s [%s]: %s | %.160s", l.file, rep.Format, strings.Join(why, "; "), r.Diagnostic))
	}
}

func (s *scores) report(t *testing.T) {
	t.Helper()
	t.Logf("rows %d: recipient %.1f%% (%d/%d), status %.1f%% (%d/%d), class %.1f%% (%d/%d)",
		s.rows, s.pct(s.rcptOK, s.rcptRows), s.rcptOK, s.rcptRows, s.pct(s.statusOK, s.statusRows),
		s.statusOK, s.statusRows, s.pct(s.classOK, s.rows), s.classOK, s.rows)
	t.Logf("  reason agreement with sisimai (informative) %.1f%% (%d/%d)", s.pct(s.reasonOK, s.reasonRows), s.reasonOK, s.reasonRows)
	for _, c := range []Class{Hard, Soft, AutoReply, Complaint, Delivered, Other} {
		k := string(c)
		t.Logf("  %-9s precision %5.1f%% recall %5.1f%% (tp %d fp %d fn %d)", k,
			s.pct(s.tp[k], s.tp[k]+s.fp[k]), s.pct(s.tp[k], s.tp[k]+s.fn[k]), s.tp[k], s.fp[k], s.fn[k])
	}
	var senders []string
	for k, n := range s.bySender {
		senders = append(senders, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(senders)
	t.Logf("  rows with a mistake by sender type: %s", strings.Join(senders, " "))
	if os.Getenv("KAWARABAN_CORPUS_VERBOSE") != "" {
		for _, m := range s.mistakes {
			t.Log("  " + m)
		}
	}
}

// findCorpus returns the labelled corpus directory: shared/corpus/bounces
// beside the repository or beside one of its parents (a git worktree under
// /work/wt/NAME finds /work/shared), or "" when it is absent.
func findCorpus() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		c := filepath.Join(dir, "shared", "corpus", "bounces")
		if _, err := os.Stat(filepath.Join(c, "labels.tsv")); err == nil {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// corpusDir returns findCorpus or skips the test (fails it when
// KAWARABAN_REQUIRE_ALL=1).
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := findCorpus()
	if dir == "" {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatal("../shared/corpus/bounces is missing")
		}
		t.Skip("../shared/corpus/bounces not present")
	}
	return dir
}

// repoRoot walks up from the test's directory to go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// TestCorpus measures the classifier on the labelled training split of
// sisimai's set-of-emails in ../shared/corpus/bounces, when present.
func TestCorpus(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	labels := readLabels(t, filepath.Join(dir, "labels.tsv"))
	s := evaluate(t, dir, labels)
	s.report(t)
	var jp []label
	for _, l := range labels {
		if l.jp {
			jp = append(jp, l)
		}
	}
	t.Log("Japanese rows (jp=yes), every rule on:")
	evaluate(t, dir, jp).report(t)
	floors := []struct {
		name      string
		got, want float64
	}{
		{"recipient", s.pct(s.rcptOK, s.rcptRows), 98.5},
		{"status", s.pct(s.statusOK, s.statusRows), 98},
		{"class", s.pct(s.classOK, s.rows), 96},
	}
	t.Run("line ends", func(t *testing.T) {
		t.Parallel()
		for _, sub := range []string{"bsd", "not"} {
			checkLineEnds(t, filepath.Join(dir, "maildir", sub))
		}
	})
	for _, f := range floors {
		if f.got < f.want {
			t.Errorf("%s accuracy %.1f%% below floor %.1f%%", f.name, f.got, f.want)
		}
	}
}
