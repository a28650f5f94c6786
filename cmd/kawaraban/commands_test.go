package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/usage.golden")

// TestUsageText: the usage text is written from the command table; the
// golden file keeps it as operators know it (DESIGN.md "Commands").
// Regenerate with `go test ./cmd/kawaraban -run TestUsageText -update`.
func TestUsageText(t *testing.T) {
	t.Parallel()
	got := program().UsageText() + "\n"
	if *update {
		if err := os.WriteFile("testdata/usage.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/usage.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("usage text differs from testdata/usage.golden:\n%s", got)
	}
	var out strings.Builder
	if err := run(t.Context(), []string{"help"}, nil, &out, &out); err != nil || out.String() != string(want) {
		t.Errorf("help: %v\n%s", err, out.String())
	}
}
