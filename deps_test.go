// Package kawaraban_test holds repository-wide checks.
package kawaraban_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// layer ranks every package of the module: a package may import only
// packages of a strictly lower rank (DESIGN.md "Packages and how they
// depend"; STYLE.md), so the arrows point down: cmd → web → newsletter →
// issues/progress/subscribers/bounces → mailer/templates → store.
var layer = map[string]int{
	"kawaraban/store": 0, "kawaraban/token": 0, "kawaraban/localmail": 0, "kawaraban/scheduler": 0, "kawaraban/dnscheck": 0,
	"kawaraban/internal/testclock": 0, "kawaraban/templates": 1, "kawaraban/mailer": 1, "kawaraban/bounces/classify": 1,
	"kawaraban/subscribers": 2, "kawaraban/issues": 2, "kawaraban/progress": 2, "kawaraban/bounces": 2,
	"kawaraban/newsletter": 3, // the application layer joins the domain packages
	"kawaraban/web":        4,
	// config decodes the YAML and maps it to the packages' Options; web
	// never sees it.
	"kawaraban/config": 4,
	// The measuring programs' shared API client; kawaraban's command
	// line (command table, exit codes, terminal output) and its daemon's
	// lifecycle (supervised runners, HTTP shutdown). None knows the domain.
	"kawaraban/cmd/internal/apiclient": 4, "kawaraban/cmd/internal/cli": 4, "kawaraban/cmd/internal/lifecycle": 4,
	// Programs and repository-wide tests: nothing imports them.
	"kawaraban/cmd/kawaraban": 5, "kawaraban/cmd/sendbench": 5, "kawaraban/cmd/loadsubscribe": 5,
	"kawaraban/e2e": 5, "kawaraban/deploy": 5, "kawaraban": 5,
}

// httpRank is the lowest rank allowed to import net/http: web and above.
const httpRank = 4

// TestDeps keeps the arrows pointing down for the whole module, cmd
// included: every package must have a rank, and none imports a package on
// its own rank or above, nor (below web) net/http.
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if _, ok := layer[pkg]; !ok {
			t.Errorf("%s has no rank in deps_test.go: give every package its floor", pkg)
		}
	}
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
				t.Errorf("%s (rank %d) imports %s (rank %d): a package may only import lower layers", pkg, rank, dep, r)
			}
		}
		direct, _ := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, pkg).Output()
		for _, dep := range strings.Fields(string(direct)) {
			if rank < httpRank && (dep == "net/http" || dep == "net/http/httptest") {
				t.Errorf("%s imports %s: HTTP belongs in web only; domain packages return errors, not statuses", pkg, dep)
			}
		}
	}
}

// sqlLike finds SQL in a Go string literal.
var sqlLike = regexp.MustCompile(`(?i)\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s)`)

// TestNoSQLInCmd keeps cmd/kawaraban to wiring (issue 14): each domain
// package owns its tables and its SQL; cmd runs none, nor do the
// packages it keeps in cmd/internal.
func TestNoSQLInCmd(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("cmd/kawaraban/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in cmd/kawaraban: %v", err)
	}
	internal, err := filepath.Glob("cmd/internal/*/*.go")
	if err != nil || len(internal) == 0 {
		t.Fatalf("no files in cmd/internal: %v", err)
	}
	files = append(files, internal...)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, lit := range stringLiterals(src) {
			if sqlLike.MatchString(lit.value) {
				t.Errorf("%s: SQL in cmd (%q): move it to the package that owns the table", fset.Position(lit.pos), lit.value)
			}
		}
		for _, call := range []string{".ExecContext(", ".QueryContext(", ".QueryRowContext(", ".PrepareContext(", ".BeginTx("} {
			if b, _ := exec.Command("grep", "-nF", call, name).Output(); len(b) > 0 {
				t.Errorf("%s runs SQL (%s): %s", name, call, strings.TrimSpace(string(b)))
			}
		}
	}
}

type literal struct {
	pos   token.Pos
	value string
}

// stringLiterals returns the string literals of f.
func stringLiterals(f *ast.File) []literal {
	var out []literal
	ast.Inspect(f, func(n ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if v, err := strconv.Unquote(bl.Value); err == nil {
				out = append(out, literal{bl.Pos(), v})
			}
		}
		return true
	})
	return out
}
