package subscribers

import (
	"fmt"
	"io"
)

// The command line's English text of this package's results (`kawaraban
// import subscribers`, `check-config`); the admin UI words them itself.

// WriteText reports an import of file: one summary line, then one line
// per rejected row with its line number and reason in English and
// Japanese.
func (r ImportReport) WriteText(w io.Writer, file string) {
	mode := "imported"
	if r.DryRun {
		mode = "dry run, nothing changed"
	}
	fmt.Fprintf(w, "%s (%s): %d rows, %d added, %d updated, %d unchanged, %d rejected\n",
		file, mode, r.Rows, r.Added, r.Updated, r.Unchanged, len(r.Rejected))
	for _, row := range r.Rejected {
		if row.ReasonJA == "" { // a row an import before 0026 kept
			fmt.Fprintf(w, "line %d: %s\n", row.Line, row.Reason)
			continue
		}
		fmt.Fprintf(w, "line %d: %s (%s)\n", row.Line, row.Reason, row.ReasonJA)
	}
}

// Text says what the import is doing, for a progress line: checking the
// file's rows, or writing them with a count.
func (p ImportProgress) Text() string {
	if p.Phase == "writing" {
		return fmt.Sprintf("writing %d/%d rows", p.Done, p.Total)
	}
	return "checking rows"
}

// Finished reports whether this is the import's last step: every row
// written.
func (p ImportProgress) Finished() bool { return p.Phase == "writing" && p.Done == p.Total }

// Text says how the configuration's list differs from the database and
// what the next start does about it; key names the list in the
// configuration ("lists[2]").
func (d ListDrift) Text(key string) string {
	switch {
	case d.NotInConfig:
		return fmt.Sprintf("list %s: only in the database (created in the admin UI, or removed from this file); kept as it is", d.Slug)
	case d.Missing:
		return fmt.Sprintf("%s (%s): not in the database yet; the next start creates it", key, d.Slug)
	case d.EditedInUI:
		return fmt.Sprintf("%s.%s (%s): differs from the database, where it was edited in the admin UI and keeps %q (this file says %q)",
			key, d.Field, d.Slug, d.Database, d.Config)
	}
	return fmt.Sprintf("%s.%s (%s): differs from the database (%q); the next start applies %q",
		key, d.Field, d.Slug, d.Database, d.Config)
}
