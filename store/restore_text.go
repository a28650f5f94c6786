package store

import (
	"fmt"
	"io"
)

// WriteText reports, for `kawaraban restore`, what Restore did with the
// copy of from put at path: what Verify found, whether the next start
// migrates it, and where the database it replaced is kept.
func (r Restored) WriteText(w io.Writer, from, path string) {
	fmt.Fprintf(w, "restored %s to %s (schema version %d, integrity ok, %d tables checked)\n", from, path, r.SchemaVersion, r.Tables)
	if latest := LatestVersion(); r.SchemaVersion < latest {
		fmt.Fprintf(w, "the next start migrates it from schema version %d to %d\n", r.SchemaVersion, latest)
	}
	if r.Kept != "" {
		fmt.Fprintf(w, "the database it replaced is kept at %s (delete it when the restore is confirmed)\n", r.Kept)
	}
}
