package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// auditActionRe finds the actions the handlers write: s.audit(r, who,
// "issue.send", …) and the literal parts of "issue."+action.
var auditActionRe = regexp.MustCompile(`\.audit\(r, [^,]+, "([a-z][a-z._-]*)"(\+)?`)

// dynamicAuditActions are the actions made as prefix+code, and the codes.
var dynamicAuditActions = map[string][]string{
	"issue.":            {"send", "schedule", "pause", "resume", "cancel", "retry", "approve", "reject", "test"},
	"list.":             {"close", "reopen"},
	"schedule.":         {"pause", "resume"},
	"subscriber.":       {"profile", "unsubscribe", "unsuppress", "erase"},
	"subscribers.bulk.": {"unsubscribe", "suppress", "erase", "export"},
}

// TestAuditActionsNamed: the audit page names every action in the
// reader's language (the page walk found password.failed shown as code on
// the Japanese page); a handler that writes a new action needs a word.
func TestAuditActionsNamed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{"issue.send": "api.go", "issue.schedule": "api.go", "list.close": "api_lists.go", "list.reopen": "api_lists.go"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range auditActionRe.FindAllStringSubmatch(string(src), -1) {
			if m[2] == "" {
				actions[m[1]] = f
				continue
			}
			codes, ok := dynamicAuditActions[m[1]]
			if !ok {
				t.Errorf("%s: audit action %q+… has no entry in dynamicAuditActions", f, m[1])
			}
			for _, c := range codes {
				actions[m[1]+c] = f
			}
		}
	}
	if len(actions) < 30 {
		t.Fatalf("found %d audit actions; the pattern no longer matches the handlers", len(actions))
	}
	for a, f := range actions {
		for _, lang := range []string{"ja", "en"} {
			if tr(lang, "audit."+a) == "audit."+a {
				t.Errorf("%s: audit action %q has no %s name", f, a, lang)
			}
		}
	}
}
