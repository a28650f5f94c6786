// Package kawaraban_test holds repository-wide checks.
package kawaraban_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layer ranks packages: a package may import only packages of a strictly
// lower rank (DESIGN.md "Packages and how they depend"; STYLE.md).
var layer = map[string]int{
	"kawaraban/store": 0, "kawaraban/token": 0, "kawaraban/localmail": 0, "kawaraban/scheduler": 0, "kawaraban/dnscheck": 0,
	"kawaraban/templates": 1, "kawaraban/mailer": 1,
	"kawaraban/subscribers": 2, "kawaraban/issues": 2, "kawaraban/progress": 2, "kawaraban/bounces": 2,
	"kawaraban/bounces/classify": 1,
	"kawaraban/newsletter":       3,
	"kawaraban/web":              4,
}

// TestDeps keeps the arrows pointing down: domain packages never import
// net/http or web, never import a package on their own level or above.
func TestDeps(t *testing.T) {
	t.Parallel()
	for pkg, rank := range layer {
		out, err := exec.Command("go", "list", "-deps", "-test=false", pkg).Output()
		if err != nil {
			t.Errorf("go list %s: %v (a package in the layer table must exist)", pkg, err)
			continue
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == pkg {
				continue
			}
			if r, ok := layer[dep]; ok && r >= rank && !strings.HasPrefix(dep, pkg+"/") {
				t.Errorf("%s imports %s: a package may only import lower layers (web → domain → mailer/templates → store)", pkg, dep)
			}
		}
		direct, _ := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, pkg).Output()
		for _, dep := range strings.Fields(string(direct)) {
			if rank < 4 && (dep == "net/http" || dep == "net/http/httptest") {
				t.Errorf("%s imports %s: HTTP belongs in web only; domain packages return errors, not statuses", pkg, dep)
			}
		}
	}
}
