package classify

import (
	"encoding/json"
	"os"
	"testing"
)

func TestLines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		rep  *Report
		want []Line
		tsv  []string
	}{
		{"two recipients", &Report{Class: Hard, Recipients: []Recipient{
			{Address: "gone@example.jp", Status: "5.1.1", Class: Hard, Reason: ReasonUserUnknown, Why: "5.1.1"},
			{Address: "full@example.jp", Status: "4.2.2", Class: Soft},
		}}, []Line{
			{"b.eml", "gone@example.jp", "5.1.1", "hard", ReasonUserUnknown, "5.1.1"},
			{"b.eml", "full@example.jp", "4.2.2", "soft", "", ""},
		}, []string{"b.eml\tgone@example.jp\t5.1.1\thard", "b.eml\tfull@example.jp\t4.2.2\tsoft"}},
		{"not a bounce", &Report{Class: Other}, []Line{{File: "b.eml", Class: "other"}}, []string{"b.eml\t\t\tother"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := c.rep.Lines("b.eml")
			if len(got) != len(c.want) {
				t.Fatalf("Lines = %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] || got[i].TSV() != c.tsv[i] {
					t.Errorf("line %d = %+v %q, want %+v %q", i, got[i], got[i].TSV(), c.want[i], c.tsv[i])
				}
			}
		})
	}
}

// TestLinesJSON: the JSON keys the contract names (DESIGN.md, `bounce
// classify --json`), from a real DSN.
func TestLinesJSON(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/own/docomo-unknown.eml")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Lines("docomo-unknown.eml") {
		b, _ := json.Marshal(l)
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, k := range []string{"file", "recipient", "status", "class"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", b, k)
			}
		}
		if m["class"] != "hard" {
			t.Errorf("%s: want class hard", b)
		}
	}
}
