package main

import (
	"os"
	"strings"
	"testing"
)

// exampleWith returns config.example.yaml with its first old replaced by
// new ("" and "" for the file as it is).
func exampleWith(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile("../../config.example.yaml")
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("config.example.yaml lacks %q (%v)", old, err)
	}
	return strings.Replace(string(b), old, new, 1)
}

func TestCheckConfigExitCodes(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if code := exitCode(run(t.Context(), []string{"check-config", "../../config.example.yaml"}, nil, &out, &out), &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	bad := t.TempDir() + "/bad.yaml"
	os.WriteFile(bad, []byte(exampleWith(t, "  port: 587\n", "  port: 0\n")), 0o600)
	out.Reset()
	code := exitCode(run(t.Context(), []string{"check-config", bad}, nil, &out, &out), &out)
	if code != 2 || !strings.Contains(out.String(), "smtp.port") {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}
