package classify

import "strings"

// Line is one failed recipient of a classified file, as `kawaraban bounce
// classify` prints it: a JSON object per line with --json (the contract
// names file, recipient, status and class), else tab-separated.
type Line struct {
	File      string `json:"file"`
	Recipient string `json:"recipient"`
	Status    string `json:"status"`
	Class     string `json:"class"`
	Reason    string `json:"reason,omitempty"`
	Why       string `json:"why,omitempty"`
}

// Lines gives one Line per recipient of the report on file; a message
// with no recipient (a non-bounce) still gets one line with its class.
func (r *Report) Lines(file string) []Line {
	out := make([]Line, 0, max(1, len(r.Recipients)))
	for _, rc := range r.Recipients {
		out = append(out, Line{file, rc.Address, rc.Status, string(rc.Class), rc.Reason, rc.Why})
	}
	if len(out) == 0 {
		out = append(out, Line{File: file, Class: string(r.Class)})
	}
	return out
}

// TSV is the line's file, recipient, status and class, tab-separated.
func (l Line) TSV() string {
	return strings.Join([]string{l.File, l.Recipient, l.Status, l.Class}, "\t")
}
