package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// IsTerminal reports whether w is a terminal (a character device), where a
// person reads: progress lines and text logs go there, not into files and
// pipes.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// NewLogger chooses the log handler: format "text" or "json", or with
// "auto" or "" text on a terminal and JSON otherwise; level is a
// slog level name ("debug", "info", …; unknown means info).
func NewLogger(level, format string, w io.Writer) *slog.Logger {
	l := slog.LevelInfo
	l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "auto" || format == "" {
		format = "json"
		if IsTerminal(w) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Bar shows a long task's progress on one line of a terminal; written to
// anything else (a file, a pipe) it shows nothing, so that scripts see
// only the result.
type Bar struct {
	w     io.Writer
	shown bool
}

// NewBar returns a bar that draws on w when w is a terminal.
func NewBar(w io.Writer) *Bar {
	if IsTerminal(w) {
		return &Bar{w: w}
	}
	return &Bar{}
}

// Show redraws the line: what is being done and the percentage of done in
// total. A total of 0 or less shows nothing.
func (b *Bar) Show(what string, done, total int64) {
	if b.w == nil || total <= 0 {
		return
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s %3d%%", what, done*100/total)
	b.shown = true
}

// Clear removes the line, so that what is printed next starts clean.
func (b *Bar) Clear() {
	if b.shown {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.shown = false
	}
}

// Box draws lines in an ASCII frame, as wide as the longest line, for a
// notice that must not be missed among log lines.
func Box(lines []string) string {
	w := 0
	for _, l := range lines {
		w = max(w, len(l))
	}
	var b strings.Builder
	b.WriteString("+" + strings.Repeat("-", w+2) + "+\n")
	for _, l := range lines {
		b.WriteString("| " + l + strings.Repeat(" ", w-len(l)) + " |\n")
	}
	b.WriteString("+" + strings.Repeat("-", w+2) + "+\n")
	return b.String()
}
