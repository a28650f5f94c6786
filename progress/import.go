package progress

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ImportReport says what an import changed.
type ImportReport struct {
	Name             string
	Contacts         int // bureaus created or updated
	Measures         int
	Projects         int
	DeadlinesCreated int
	DeadlinesUpdated int // title, due date or bureaus changed
	// DeadlinesUnchanged were in the file exactly as they are stored: a
	// second import of the same file reports them here, not as updated.
	DeadlinesUnchanged int
	RulesUpdated       bool
	// Warnings are things imported anyway or ignored, each with its line.
	Warnings []string
}

// maxFileBytes bounds a progress file; the real one is a few kilobytes.
const maxFileBytes = 4 << 20

// Import reads a progress file (DESIGN.md "Progress file") and applies it
// in one transaction: bureaus' contacts and measures are created or
// updated, each measure's projects replaced, deadlines created or updated by
// their stable id (never duplicated), and the reminder rules replaced when
// the file has a reminders section. Deadlines, contacts and measures the
// file does not name are left as they are. A file with any problem (an
// unknown bureau, a date that does not parse, a duplicate id, …) is refused
// as a whole with a *FileError naming each key and line; nothing is imported.
func (s *Store) Import(ctx context.Context, r io.Reader, name string) (ImportReport, error) {
	rep := ImportReport{Name: name}
	raw, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return rep, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(raw) > maxFileBytes {
		return rep, &FileError{Name: name, Problems: []*ImportError{{Line: 1, Key: "(file)", Msg: "larger than 4 MiB"}}}
	}
	p, err := parsePlan(bytes.NewReader(raw))
	if err != nil {
		return rep, &FileError{Name: name, Problems: []*ImportError{{Line: yamlErrLine(err), Key: "(file)", Msg: err.Error()}}}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("importing %s: %w", name, err)
	}
	defer tx.Rollback()
	known, err := knownBureaus(ctx, tx)
	if err != nil {
		return rep, fmt.Errorf("importing %s: %w", name, err)
	}
	contacts := p.check(known)
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
		return rep, &FileError{Name: name, Problems: p.problems}
	}
	if err := s.apply(ctx, tx, p, contacts, &rep); err != nil {
		return rep, fmt.Errorf("importing %s: %w", name, err)
	}
	moved, err := reportsMoved(ctx, tx)
	if err != nil {
		return rep, fmt.Errorf("importing %s: %w", name, err)
	}
	p.warnings = append(p.warnings, moved...)
	sum := sha256.Sum256(raw)
	_, err = tx.ExecContext(ctx, `INSERT INTO progress_imports
		(name, sha256, imported_at, contacts, measures, projects, deadlines) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		name, hex.EncodeToString(sum[:]), s.opt.Now().Unix(), rep.Contacts, rep.Measures, rep.Projects,
		rep.DeadlinesCreated+rep.DeadlinesUpdated+rep.DeadlinesUnchanged)
	if err != nil {
		return rep, fmt.Errorf("importing %s: recording run: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("importing %s: %w", name, err)
	}
	rep.Warnings = p.warnings
	s.log.Info("progress file imported", "file", name, "deadlines_created", rep.DeadlinesCreated,
		"deadlines_updated", rep.DeadlinesUpdated, "deadlines_unchanged", rep.DeadlinesUnchanged, "warnings", len(rep.Warnings))
	return rep, nil
}

// yamlErrLine digs the line out of a yaml.v3 syntax error ("yaml: line 3: …").
func yamlErrLine(err error) int {
	var n int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "reading YAML: "), "yaml: line %d:", &n); e == nil {
		return n
	}
	return 1
}

// knownBureau is a bureau in the database before the import.
type knownBureau struct{ hasEmail bool }

func knownBureaus(ctx context.Context, tx *sql.Tx) (map[string]knownBureau, error) {
	rows, err := tx.QueryContext(ctx, `SELECT bureau, email FROM contacts`)
	if err != nil {
		return nil, fmt.Errorf("loading contacts: %w", err)
	}
	defer rows.Close()
	out := map[string]knownBureau{}
	for rows.Next() {
		var b, email string
		if err := rows.Scan(&b, &email); err != nil {
			return nil, fmt.Errorf("loading contacts: %w", err)
		}
		out[b] = knownBureau{hasEmail: email != ""}
	}
	return out, rows.Err()
}

// check cross-checks the file against itself and the known bureaus,
// adding problems, and returns the contacts merged by bureau.
func (p *planFile) check(known map[string]knownBureau) []contactIn {
	merged, order := map[string]*contactIn{}, []string{}
	seenContact, seenBureau := map[string]int{}, map[string]int{}
	for i := range p.contacts {
		c := p.contacts[i]
		if c.bureau == "" {
			continue
		}
		seen := seenBureau
		if c.hasEmail {
			seen = seenContact
		}
		if first, dup := seen[c.bureau]; dup {
			p.problems = append(p.problems, &ImportError{Line: c.line, Key: "bureau", Msg: fmt.Sprintf("duplicate bureau %q (first on line %d)", c.bureau, first)})
			continue
		}
		seen[c.bureau] = c.line
		m, ok := merged[c.bureau]
		if !ok {
			merged[c.bureau], order = &c, append(order, c.bureau)
			continue
		}
		m.mergeFrom(c)
	}
	hasEmail := func(b string) (isKnown, withEmail bool) {
		if c, ok := merged[b]; ok {
			return true, c.hasEmail || known[b].hasEmail
		}
		k, ok := known[b]
		return ok, k.hasEmail
	}
	p.checkMeasures(hasEmail)
	p.checkDeadlines(hasEmail)
	out := make([]contactIn, 0, len(order))
	for _, b := range order {
		out = append(out, *merged[b])
	}
	return out
}

func (c *contactIn) mergeFrom(o contactIn) {
	if o.hasEmail {
		c.email, c.cc, c.person, c.hasEmail = o.email, o.cc, o.person, true
	}
	if c.nameJa == "" {
		c.nameJa = o.nameJa
	}
	if c.nameEn == "" {
		c.nameEn = o.nameEn
	}
}

func (p *planFile) checkMeasures(bureau func(string) (bool, bool)) {
	seen := map[int]int{}
	for i, m := range p.measures {
		if first, dup := seen[m.number]; dup && m.number != 0 {
			p.problems = append(p.problems, &ImportError{Line: m.line, Key: fmt.Sprintf("measures[%d].number", i), Msg: fmt.Sprintf("duplicate measure %d (first on line %d)", m.number, first)})
		}
		seen[m.number] = m.line
		for j, pr := range m.projects {
			if ok, _ := bureau(pr.bureau); !ok && pr.bureau != "" {
				p.warnings = append(p.warnings, fmt.Sprintf("line %d: measures[%d].projects[%d].bureau: unknown bureau %q (no contact): imported, but no reminders", pr.line, i, j, pr.bureau))
			}
		}
	}
}

func (p *planFile) checkDeadlines(bureau func(string) (bool, bool)) {
	seen := map[string]int{}
	for i, d := range p.deadlines {
		key := fmt.Sprintf("deadlines[%d]", i)
		if first, dup := seen[d.key]; dup && d.key != "" {
			p.problems = append(p.problems, &ImportError{Line: d.line, Key: key + ".id", Msg: fmt.Sprintf("duplicate id %q (first on line %d)", d.key, first)})
		}
		seen[d.key] = d.line
		for j, b := range d.bureaus {
			known, email := bureau(b)
			switch {
			case b == "":
			case !known:
				p.problems = append(p.problems, &ImportError{Line: d.bureauLines[j], Key: fmt.Sprintf("%s.bureaus[%d]", key, j), Msg: fmt.Sprintf("unknown bureau %q (not in contacts)", b)})
			case !email:
				p.problems = append(p.problems, &ImportError{Line: d.bureauLines[j], Key: fmt.Sprintf("%s.bureaus[%d]", key, j), Msg: fmt.Sprintf("bureau %q has no contact e-mail", b)})
			}
		}
	}
}

func (s *Store) apply(ctx context.Context, tx *sql.Tx, p *planFile, contacts []contactIn, rep *ImportReport) error {
	now := s.opt.Now().Unix()
	for _, c := range contacts {
		if err := upsertContact(ctx, tx, c, now); err != nil {
			return err
		}
		rep.Contacts++
	}
	for _, m := range p.measures {
		n, err := replaceMeasure(ctx, tx, m)
		if err != nil {
			return err
		}
		rep.Measures++
		rep.Projects += n
	}
	for _, d := range p.deadlines {
		change, err := s.upsertDeadline(ctx, tx, d, now, p)
		if err != nil {
			return err
		}
		switch change {
		case deadlineCreated:
			rep.DeadlinesCreated++
		case deadlineUpdated:
			rep.DeadlinesUpdated++
		default:
			rep.DeadlinesUnchanged++
		}
	}
	if p.rules != nil {
		r := p.rules
		_, err := tx.ExecContext(ctx, `INSERT INTO reminder_rules
			(id, before_days, overdue_every_days, escalate_after_days, coordinator, updated_at) VALUES (1, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET before_days = excluded.before_days, overdue_every_days = excluded.overdue_every_days,
			escalate_after_days = excluded.escalate_after_days, coordinator = excluded.coordinator, updated_at = excluded.updated_at`,
			r.beforeText(), r.OverdueEveryDays, r.EscalateAfterDays, r.Coordinator, now)
		if err != nil {
			return fmt.Errorf("saving reminder rules: %w", err)
		}
		rep.RulesUpdated = true
	}
	return nil
}

func upsertContact(ctx context.Context, tx *sql.Tx, c contactIn, now int64) error {
	var err error
	if c.hasEmail {
		_, err = tx.ExecContext(ctx, `INSERT INTO contacts (bureau, name_ja, name_en, person, email, cc, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bureau) DO UPDATE SET name_ja = excluded.name_ja,
			name_en = excluded.name_en, person = excluded.person, email = excluded.email, cc = excluded.cc,
			updated_at = excluded.updated_at`, c.bureau, c.nameJa, c.nameEn, c.person, c.email, c.cc, now)
	} else { // names only: keep the address an earlier file gave
		_, err = tx.ExecContext(ctx, `INSERT INTO contacts (bureau, name_ja, name_en, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (bureau) DO UPDATE SET name_ja = excluded.name_ja,
			name_en = excluded.name_en, updated_at = excluded.updated_at`, c.bureau, c.nameJa, c.nameEn, now)
	}
	if err != nil {
		return fmt.Errorf("saving contact %s: %w", c.bureau, err)
	}
	return nil
}

func replaceMeasure(ctx context.Context, tx *sql.Tx, m measureIn) (int, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO measures (number, title_ja, title_en) VALUES (?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET title_ja = excluded.title_ja, title_en = excluded.title_en`,
		m.number, m.titleJa, m.titleEn)
	if err != nil {
		return 0, fmt.Errorf("saving measure %d: %w", m.number, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE measure = ?`, m.number); err != nil {
		return 0, fmt.Errorf("replacing projects of measure %d: %w", m.number, err)
	}
	for i, pr := range m.projects {
		_, err := tx.ExecContext(ctx, `INSERT INTO projects (measure, position, title_ja, bureau, is_new, enhanced)
			VALUES (?, ?, ?, ?, ?, ?)`, m.number, i, pr.titleJa, pr.bureau, pr.isNew, pr.enhanced)
		if err != nil {
			return 0, fmt.Errorf("saving project %d of measure %d: %w", i, m.number, err)
		}
	}
	return len(m.projects), nil
}

// upsertDeadline creates or updates a deadline by its stable key and
// replaces its bureaus. Omitted bureaus mean every bureau that has a
// project and a contact address, as of this import.
// What an import did to one deadline.
const (
	deadlineCreated   = "created"
	deadlineUpdated   = "updated"
	deadlineUnchanged = "unchanged"
)

// upsertDeadline creates d or brings the stored deadline in line with it,
// and says which of the two it did, or that nothing differed.
func (s *Store) upsertDeadline(ctx context.Context, tx *sql.Tx, d deadlineIn, now int64, p *planFile) (string, error) {
	var (
		id         int64
		title, due string
	)
	err := tx.QueryRowContext(ctx, `SELECT id, title_ja, due FROM deadlines WHERE key = ?`, d.key).Scan(&id, &title, &due)
	change := deadlineUnchanged
	if errors.Is(err, sql.ErrNoRows) {
		change = deadlineCreated
		err = tx.QueryRowContext(ctx, `INSERT INTO deadlines (key, title_ja, due, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, d.key, d.titleJa, d.due.String(), now, now).Scan(&id)
	}
	if err != nil {
		return "", fmt.Errorf("saving deadline %s: %w", d.key, err)
	}
	bureaus := d.bureaus
	if bureaus == nil {
		if bureaus, err = projectBureaus(ctx, tx, d, p); err != nil {
			return "", err
		}
	}
	old, err := deadlineBureaus(ctx, tx, id)
	if err != nil {
		return "", err
	}
	want := slices.Clone(bureaus)
	slices.Sort(want)
	want = slices.Compact(want)
	if change == deadlineUnchanged && title == d.titleJa && due == d.due.String() && slices.Equal(old, want) {
		return deadlineUnchanged, nil
	}
	if change == deadlineUnchanged {
		change = deadlineUpdated
		if _, err := tx.ExecContext(ctx, `UPDATE deadlines SET title_ja = ?, due = ?, updated_at = ? WHERE id = ?`,
			d.titleJa, d.due.String(), now, id); err != nil {
			return "", fmt.Errorf("saving deadline %s: %w", d.key, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deadline_bureaus WHERE deadline = ?`, id); err != nil {
		return "", fmt.Errorf("saving bureaus of deadline %s: %w", d.key, err)
	}
	for _, b := range want {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO deadline_bureaus (deadline, bureau) VALUES (?, ?)`, id, b); err != nil {
			return "", fmt.Errorf("saving bureau %s of deadline %s: %w", b, d.key, err)
		}
	}
	return change, nil
}

// deadlineBureaus are the bureaus stored for a deadline, sorted.
func deadlineBureaus(ctx context.Context, tx *sql.Tx, id int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT bureau FROM deadline_bureaus WHERE deadline = ? ORDER BY bureau`, id)
	if err != nil {
		return nil, fmt.Errorf("loading bureaus of deadline %d: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("loading bureaus of deadline %d: %w", id, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func projectBureaus(ctx context.Context, tx *sql.Tx, d deadlineIn, p *planFile) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT p.bureau, coalesce(c.email, '') FROM projects p
		LEFT JOIN contacts c ON c.bureau = p.bureau ORDER BY p.bureau`)
	if err != nil {
		return nil, fmt.Errorf("listing bureaus with projects: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b, email string
		if err := rows.Scan(&b, &email); err != nil {
			return nil, fmt.Errorf("listing bureaus with projects: %w", err)
		}
		if email == "" {
			p.warnings = append(p.warnings, fmt.Sprintf("line %d: deadline %s: bureau %q has projects but no contact e-mail: left out", d.line, d.key, b))
			continue
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
