package classify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// family names the MTA family of a corpus file: its sisimai module, the
// file name without the number ("lhost-postfix" for
// maildir/bsd/lhost-postfix-36.eml, "rfc3464", "arf").
func family(file string) string {
	f := strings.TrimSuffix(filepath.Base(file), ".eml")
	f = strings.TrimRight(f, "0123456789")
	return strings.TrimSuffix(f, "-")
}

func newScores() *scores {
	return &scores{tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}, bySender: map[string]int{}}
}

// ruleSupport classifies every labelled file with every rule on and
// returns, for each rule ID, the messages whose files used it (by content
// hash) and the families of those files.
func ruleSupport(t *testing.T, dir string, labels []label) (support map[string]map[string]bool, families map[string]map[string]bool) {
	t.Helper()
	support = map[string]map[string]bool{}
	families = map[string]map[string]bool{}
	seen := map[string]bool{}
	for _, l := range labels {
		if seen[l.file] {
			continue
		}
		seen[l.file] = true
		h := contentHash(t, dir, l.file)
		if families[h] == nil {
			families[h] = map[string]bool{}
		}
		families[h][family(l.file)] = true
		rep := parseFile(t, dir, l.file, &decider{})
		for _, r := range rep.Recipients {
			for _, id := range r.rules {
				if support[id] == nil {
					support[id] = map[string]bool{}
				}
				support[id][h] = true
			}
		}
	}
	return support, families
}

// contentHash names a message by its bytes: sisimai keeps some messages
// under two module names (rhost-gsuite-07 is rfc3464-56), and a rule used
// by one message filed twice is still a rule for one message.
func contentHash(t *testing.T, dir, file string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// offFor returns the rules to switch off when family fam is left out:
// those every message of whose support is filed under fam.
func offFor(fam string, support, families map[string]map[string]bool) map[string]bool {
	off := map[string]bool{}
	for id, msgs := range support {
		only := true
		for h := range msgs {
			if !families[h][fam] {
				only = false
				break
			}
		}
		if only {
			off[id] = true
		}
	}
	return off
}

func parseFile(t *testing.T, dir, file string, dc *decider) *Report {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	rep, err := parseWith(raw, dc)
	if err != nil {
		t.Errorf("%s: %v", file, err)
		rep = &Report{Class: Other}
	}
	return rep
}

// TestLeaveOneFamilyOut measures how the rules do on mail they were not
// written for. The rules were tuned on the whole training corpus, so a
// rule used by the files of one MTA family only is, for all we know, a
// rule for that family. For each family F, every rule whose support (the
// families whose files it decided something for, with all rules on) is
// exactly {F} is switched off, and F's files are scored; a message filed
// under two families counts as F's when one of them is F. Rules used by two
// or more families, and rules no corpus file uses, stay on. The sum over
// all families is the leave-one-family-out score reported in
// docs/BOUNCES.md; the Japanese rows (labels.tsv column jp) are reported
// on their own.
func TestLeaveOneFamilyOut(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	labels := readLabels(t, filepath.Join(dir, "labels.tsv"))
	support, families := ruleSupport(t, dir, labels)
	byFamily := map[string][]label{}
	for _, l := range labels {
		byFamily[family(l.file)] = append(byFamily[family(l.file)], l)
	}
	all, jp, other := newScores(), newScores(), newScores()
	var perFamily []string
	single := 0
	for _, msgs := range support {
		fams := map[string]bool{}
		for h := range msgs {
			for f := range families[h] {
				fams[f] = true
			}
		}
		if len(fams) == 1 {
			single++
		}
	}
	for fam, ls := range byFamily {
		off := offFor(fam, support, families)
		full, loo := newScores(), newScores()
		reports := map[string]*Report{}
		for _, l := range ls {
			rep, ok := reports[l.file]
			if !ok {
				rep = parseFile(t, dir, l.file, &decider{off: off})
				reports[l.file] = rep
			}
			all.score(l, rep)
			loo.score(l, rep)
			if l.jp {
				jp.score(l, rep)
			} else {
				other.score(l, rep)
			}
			full.score(l, parseFile(t, dir, l.file, &decider{}))
		}
		if len(off) > 0 || loo.classOK != full.classOK || loo.statusOK != full.statusOK {
			ids := make([]string, 0, len(off))
			for id := range off {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			perFamily = append(perFamily, fmt.Sprintf("%s: %d rows, class %d→%d, status %d→%d, rules off %q",
				fam, loo.rows, full.classOK, loo.classOK, full.statusOK, loo.statusOK, ids))
		}
	}
	t.Logf("%d rules used by the corpus, %d of them by one family only", len(support), single)
	t.Log("all rows, leave one family out:")
	all.report(t)
	t.Log("Japanese rows (jp=yes), leave one family out:")
	jp.report(t)
	t.Log("other rows, leave one family out:")
	other.report(t)
	sort.Strings(perFamily)
	if os.Getenv("KAWARABAN_CORPUS_VERBOSE") != "" {
		for _, f := range perFamily {
			t.Log("  " + f)
		}
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"recipient", all.pct(all.rcptOK, all.rcptRows), 98},
		{"status", all.pct(all.statusOK, all.statusRows), 97},
		{"class", all.pct(all.classOK, all.rows), 95},
	} {
		if f.got < f.want {
			t.Errorf("leave-one-family-out %s accuracy %.1f%% below %.0f%%", f.name, f.got, f.want)
		}
	}
}
