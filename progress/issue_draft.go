package progress

import (
	"context"
	"fmt"
	"strings"
)

// IssueDraft is an issue of the internal newsletter (施策32 庁内情報誌)
// composed from the published reports: Markdown an editor can change and
// send like any issue. Creating the issue is left to the caller (progress
// does not know lists or issues).
type IssueDraft struct {
	Subject  string
	Markdown string
	// Reports is how many published reports it holds.
	Reports int
}

// ComposeIssue composes the newsletter draft from the published reports:
// of the deadline with stable id deadlineID, or, with "", the latest
// published report of every project. It holds a table of statuses by
// measure and every report's note grouped by bureau. Only published text
// is used, and nothing about contacts. Bureaus come in the order of their
// first project in the plan.
func (s *Store) ComposeIssue(ctx context.Context, deadlineID string) (IssueDraft, error) {
	title := ""
	if deadlineID != "" {
		d, err := deadlineByKey(ctx, s.db, deadlineID)
		if err != nil {
			return IssueDraft{}, err
		}
		title = d.titleJa
	}
	ms, err := s.publicMeasures(ctx, deadlineID)
	if err != nil {
		return IssueDraft{}, err
	}
	var b strings.Builder
	today := DateOf(s.opt.Now(), s.loc)
	subject := "市民参加推進計画の進捗(" + today.Japanese() + "現在)"
	if title != "" {
		subject = "市民参加推進計画の進捗 ― " + title
	}
	fmt.Fprintf(&b, "各局から報告された市民参加推進計画の事業の進み具合をお知らせします(%s現在)。\n\n", today.Japanese())
	b.WriteString("## 施策ごとの状況\n\n| 施策 |")
	for _, st := range ReportStatuses {
		b.WriteString(" " + st.Japanese() + " |")
	}
	b.WriteString(" 未報告 |\n|---|" + strings.Repeat("---:|", len(ReportStatuses)+1) + "\n")
	byBureau := map[string][]PublicReport{}
	var bureaus []string
	n := 0
	for _, m := range ms {
		c := m.Counts()
		fmt.Fprintf(&b, "| 施策%d %s |", m.Number, mdEscape(m.Title))
		for _, st := range ReportStatuses {
			fmt.Fprintf(&b, " %d |", c[st])
		}
		fmt.Fprintf(&b, " %d |\n", c[""])
		for _, p := range m.Projects {
			if p.Report != nil {
				name := p.Report.BureauName
				if _, seen := byBureau[name]; !seen {
					bureaus = append(bureaus, name) // in plan order
				}
				byBureau[name] = append(byBureau[name], *p.Report)
				n++
			}
		}
	}
	b.WriteString("\n## 局ごとの報告\n")
	if n == 0 {
		b.WriteString("\n公開された報告はまだありません。\n")
	}
	for _, name := range bureaus {
		fmt.Fprintf(&b, "\n### %s\n", mdEscape(name))
		for _, r := range byBureau[name] {
			writeReport(&b, r)
		}
	}
	return IssueDraft{Subject: subject, Markdown: b.String(), Reports: n}, nil
}

func writeReport(b *strings.Builder, r PublicReport) {
	fmt.Fprintf(b, "\n#### 施策%d %s ― %s\n\n", r.Measure, mdEscape(r.ProjectTitle), r.Status.Japanese())
	if r.Note != "" {
		b.WriteString(mdText(r.Note) + "\n\n")
	}
	if r.Link != "" {
		fmt.Fprintf(b, "関連ページ: <%s>\n\n", r.Link)
	}
	fmt.Fprintf(b, "(%s報告、%s)\n", DateOf(r.ReportedAt, r.ReportedAt.Location()).Japanese(), mdEscape(r.DeadlineTitle))
}

// mdEscape makes plain text literal in Markdown: every ASCII punctuation
// character gets a backslash (CommonMark 0.31 section 2.4).
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdText is a plain-text note as Markdown: escaped, its line breaks kept
// (a backslash before a line end is a hard break, CommonMark section 6.7),
// blank lines still separating paragraphs.
func mdText(s string) string {
	paras := strings.Split(s, "\n\n")
	for i, p := range paras {
		lines := strings.Split(strings.Trim(p, "\n"), "\n")
		for j, l := range lines {
			lines[j] = mdEscape(strings.TrimSpace(l))
		}
		paras[i] = strings.Join(lines, "\\\n")
	}
	return strings.Join(paras, "\n\n")
}
