package subscribers

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the arrows of DESIGN.md pointing down: a domain package
// never reaches HTTP, the web layer or a package on its own level.
func TestDeps(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("KAWARABAN_REQUIRE_ALL") == "1" {
			t.Fatal("go tool not found")
		}
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", "kawaraban/subscribers").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := map[string]string{
		"net/http":            "HTTP belongs to web; the domain returns errors, web maps them",
		"kawaraban/web":       "web is above the domain packages",
		"kawaraban/cmd":       "cmd wires packages; nothing imports it",
		"kawaraban/issues":    "same level: declare a consumer-side interface instead",
		"kawaraban/progress":  "same level: declare a consumer-side interface instead",
		"kawaraban/bounces":   "same level: declare a consumer-side interface instead",
		"kawaraban/scheduler": "scheduler knows no domain, and the domain knows no scheduler",
	}
	for _, dep := range strings.Fields(string(out)) {
		for ban, why := range banned {
			if dep == ban || strings.HasPrefix(dep, ban+"/") {
				t.Errorf("subscribers depends on %s: %s", dep, why)
			}
		}
	}
}
