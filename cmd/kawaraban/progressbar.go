package main

import (
	"fmt"
	"io"
	"os"

	"kawaraban/subscribers"
)

// progressBar shows an import's progress on one line of a terminal;
// written to anything else (a file, a pipe) it shows nothing, so scripts
// see only the summary.
type progressBar struct {
	w     io.Writer
	shown bool
}

func newProgressBar(w io.Writer) *progressBar {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return &progressBar{w: w}
		}
	}
	return &progressBar{}
}

func (b *progressBar) show(p subscribers.ImportProgress) {
	if b.w == nil || p.Total <= 0 {
		return
	}
	pct := p.Done * 100 / p.Total
	what := "checking rows"
	if p.Phase == "writing" {
		what = fmt.Sprintf("writing %d/%d rows", p.Done, p.Total)
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s %3d%%", what, pct)
	b.shown = true
	if p.Phase == "writing" && p.Done == p.Total {
		b.done() // the import's own log line comes next
	}
}

// done clears the progress line.
func (b *progressBar) done() {
	if b.shown {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.shown = false
	}
}
