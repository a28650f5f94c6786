package progress

import (
	"fmt"
	"io"
	"strings"
)

// The command line's English text of this package's results (`kawaraban
// reminders run`, `progress import`); the admin UI words them itself.

// WriteText reports one run of the reminder job: a dry run says what it
// would send, a real one what it sent, then one tab-separated line per
// reminder (status, deadline, bureau, label, recipient, error); with show,
// each mail follows in full, indented.
func (r RunReport) WriteText(w io.Writer, show bool) {
	if r.DryRun {
		fmt.Fprintf(w, "reminders for %s (dry run: nothing sent or recorded): would send %d\n", r.Today, len(r.Reminders))
	} else {
		fmt.Fprintf(w, "reminders for %s: %d sent, %d failed\n", r.Today, r.Sent, r.Failed)
	}
	for _, m := range r.Reminders {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Status, m.Deadline, m.Bureau, m.Label, m.To, m.Err)
		if show {
			fmt.Fprintf(w, "\n  To: %s\n  Subject: %s\n\n%s\n\n", m.To, m.Subject, indent(m.Text, "  "))
		}
	}
}

// Err is nil when the run sent every reminder it tried, else an error
// saying how many it could not send: the job retries them at its next
// run.
func (r RunReport) Err() error {
	if r.Failed == 0 {
		return nil
	}
	return fmt.Errorf("%d reminders could not be sent (they are retried at the next run)", r.Failed)
}

// WriteNext writes one line per next reminder (NextReminder.Line).
func WriteNext(w io.Writer, next []NextReminder) {
	for _, n := range next {
		fmt.Fprintln(w, n.Line())
	}
}

// Line is the reminder as one tab-separated line: "next", the deadline,
// and when the job will next send (date, label, bureaus) and tell the
// coordinator, where the rules say it will.
func (n NextReminder) Line() string {
	line := "next\t" + n.Deadline
	if !n.Date.IsZero() {
		line += "\t" + n.Date.String() + "\t" + n.Label + "\t" + strings.Join(n.Bureaus, ",")
	}
	if !n.EscalateDate.IsZero() {
		line += "\tcoordinator " + n.EscalateDate.String() + " " + n.EscalateLabel
	}
	return line
}

// WriteText reports an import: what it counted, then each warning.
func (r ImportReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s: %d contacts, %d measures, %d projects; deadlines: %d created, %d updated, %d unchanged\n",
		r.Name, r.Contacts, r.Measures, r.Projects, r.DeadlinesCreated, r.DeadlinesUpdated, r.DeadlinesUnchanged)
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// ProblemLines lists the file's problems one per line, each indented by
// two spaces, for a message that says nothing was imported.
func (e *FileError) ProblemLines() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.Error())
	}
	return strings.Join(lines, "\n")
}
