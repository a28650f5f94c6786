package store

import (
	"fmt"
	"strings"
	"testing"
)

func TestRestoredText(t *testing.T) {
	t.Parallel()
	latest := LatestVersion()
	head := func(v int) string {
		return fmt.Sprintf("restored b.db to /var/lib/kawaraban/kawaraban.db (schema version %d, integrity ok, 30 tables checked)\n", v)
	}
	cases := []struct {
		name string
		r    Restored
		want string
	}{
		{"current schema, nothing replaced", Restored{SchemaVersion: latest, Tables: 30}, head(latest)},
		{"older schema", Restored{SchemaVersion: 20, Tables: 30},
			head(20) + fmt.Sprintf("the next start migrates it from schema version 20 to %d\n", latest)},
		{"replaced a database", Restored{SchemaVersion: latest, Tables: 30, Kept: "/var/lib/kawaraban/kawaraban.db.before-restore"},
			head(latest) + "the database it replaced is kept at /var/lib/kawaraban/kawaraban.db.before-restore (delete it when the restore is confirmed)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			c.r.WriteText(&b, "b.db", "/var/lib/kawaraban/kawaraban.db")
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
}
