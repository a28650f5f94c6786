package issues

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the arrows of docs/DEVELOPING.md true: issues is a domain
// package and must not reach HTTP, web, or its sibling domain packages
// (it talks to the delivery engine through the Outbox interface).
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "kawaraban/issues").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	banned := map[string]string{
		"net/http":              "HTTP belongs to web",
		"kawaraban/web":         "web is above issues",
		"kawaraban/mailer":      "use the Outbox interface; cmd passes the mailer",
		"kawaraban/subscribers": "domain packages never import each other",
		"kawaraban/progress":    "domain packages never import each other",
		"kawaraban/bounces":     "domain packages never import each other",
	}
	for _, dep := range strings.Fields(string(out)) {
		if why, ok := banned[dep]; ok {
			t.Errorf("issues depends on %s: %s", dep, why)
		}
	}
}
