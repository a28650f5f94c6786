package subscribers

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
)

// MaxImportBytes caps the size of an imported CSV file.
const MaxImportBytes = 64 << 20

// ImportOptions says where and how to import.
type ImportOptions struct {
	// ListSlug is the list the rows join.
	ListSlug string
	// ConsentSource says where the consent of these people was given (e.g.
	// "2025年度 窓口申込書"). Required for a public list; recorded with
	// every opt-in.
	ConsentSource string
	// DryRun checks and reports everything and changes nothing.
	DryRun bool
	// Actor names who imports (recorded as evidence).
	Actor string
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	// Encoding is "utf-8" or "shift_jis", as detected.
	Encoding string
	// Rows counts data rows (not the header, not blank lines).
	Rows int
	// Added joined the list; Updated were on it and got a new name or
	// attributes; Unchanged were on it already as they are.
	Added, Updated, Unchanged int
	// Rejected are the rows not imported, in line order.
	Rejected []RejectedRow
	DryRun   bool
}

// Existing is how many rows were on the list already (updated or not).
func (r ImportReport) Existing() int { return r.Updated + r.Unchanged }

// RejectedRow is one row that was not imported.
type RejectedRow struct {
	// Line is the row's line number in the file (the header is line 1).
	Line   int
	Reason string
}

// Column names recognised in the header row (case-insensitive); every other
// column becomes an attribute, except the export's own status columns.
var (
	emailHeaders   = []string{"email", "e-mail", "mail", "email address", "e-mail address", "mailaddress", "address", "メールアドレス", "メール", "eメール", "メールアドレス（pc）"}
	nameHeaders    = []string{"name", "full name", "氏名", "名前", "お名前", "氏　名"}
	ignoredHeaders = []string{"status", "subscribed_at", "confirmed_at", "unsubscribed_at", "source", "suppression"}
)

type importRow struct {
	line  int
	addr  Address
	name  string
	attrs map[string]string
}

// Import adds the rows of a CSV file to a list, all in one transaction (a
// database error imports nothing). The file is UTF-8, with or without BOM,
// or Shift_JIS as Excel in Japan writes it; the header row names the
// columns (email required; name optional; others become attributes).
// Importing the same file again changes nothing. Rows are rejected, each
// with its line and a reason, for a bad or duplicate address, a domain an
// internal list does not allow, a suppressed address, or an address that
// left the list (an import never subscribes someone again).
func (s *Store) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{DryRun: opt.DryRun}
	l, err := s.ListBySlug(ctx, opt.ListSlug)
	if err != nil {
		return rep, err
	}
	if l.Public() && strings.TrimSpace(opt.ConsentSource) == "" {
		return rep, fmt.Errorf("list %s: %w", l.Slug, ErrConsentSourceRequired)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return rep, fmt.Errorf("reading CSV: %w", err)
	}
	if len(data) > MaxImportBytes {
		return rep, fmt.Errorf("CSV is larger than %d MB: %w", MaxImportBytes>>20, ErrBadCSV)
	}
	text, enc, err := decodeCSV(data)
	if err != nil {
		return rep, err
	}
	rep.Encoding = enc
	rows, err := parseImport(text, l, &rep)
	if err != nil {
		return rep, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("beginning import: %w", err)
	}
	defer tx.Rollback()
	for _, row := range rows {
		if err := s.importRow(ctx, tx, l, row, opt, &rep); err != nil {
			return ImportReport{Encoding: enc, DryRun: opt.DryRun}, fmt.Errorf("importing line %d: %w", row.line, err)
		}
	}
	sort.SliceStable(rep.Rejected, func(i, j int) bool { return rep.Rejected[i].Line < rep.Rejected[j].Line })
	if opt.DryRun {
		return rep, nil
	}
	if err := tx.Commit(); err != nil {
		return ImportReport{Encoding: enc}, fmt.Errorf("committing import: %w", err)
	}
	s.log.Info("subscribers imported", "list_id", l.ID, "added", rep.Added, "updated", rep.Updated, "rejected", len(rep.Rejected))
	return rep, nil
}

// decodeCSV strips a UTF-8 BOM, and decodes Shift_JIS (CP932) when the
// bytes are not valid UTF-8.
func decodeCSV(data []byte) (string, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), "utf-8", nil
	}
	out, err := japanese.ShiftJIS.NewDecoder().Bytes(data)
	if err != nil {
		return "", "", fmt.Errorf("file is neither UTF-8 nor Shift_JIS: %w", ErrBadCSV)
	}
	return string(out), "shift_jis", nil
}

// header maps column indexes to their role.
type header struct {
	email, name int
	attrs       map[int]string
}

func parseHeader(rec []string) (header, error) {
	h := header{email: -1, name: -1, attrs: map[int]string{}}
	for i, raw := range rec {
		col := strings.TrimSpace(norm.NFC.String(strings.TrimPrefix(raw, "\ufeff")))
		key := strings.ToLower(col)
		switch {
		case h.email < 0 && contains(emailHeaders, key):
			h.email = i
		case h.name < 0 && contains(nameHeaders, key):
			h.name = i
		case col == "" || contains(ignoredHeaders, key) || contains(emailHeaders, key) || contains(nameHeaders, key):
		default:
			h.attrs[i] = col
		}
	}
	if h.email < 0 {
		return h, fmt.Errorf("the header row (line 1) has no email column (email or メールアドレス): %w", ErrBadCSV)
	}
	return h, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseImport reads the CSV rows and checks what needs no database.
func parseImport(text string, l List, rep *ImportReport) ([]importRow, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty: %w", ErrBadCSV)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header row: %v: %w", err, ErrBadCSV)
	}
	h, err := parseHeader(rec)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var rows []importRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("reading CSV: %w", err)
			}
			rep.Rows++
			rep.Rejected = append(rep.Rejected, RejectedRow{Line: pe.StartLine, Reason: "the row is not valid CSV: " + pe.Err.Error()})
			continue
		}
		if len(rec) == 0 || blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		rep.Rows++
		row, reason := checkRow(rec, h, l)
		row.line = line
		if reason == "" {
			if first, dup := seen[row.addr.String()]; dup {
				reason = fmt.Sprintf("the same address as line %d", first)
			}
		}
		if reason != "" {
			rep.Rejected = append(rep.Rejected, RejectedRow{Line: line, Reason: reason})
			continue
		}
		seen[row.addr.String()] = line
		rows = append(rows, row)
	}
	return rows, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// checkRow reads one data row; it returns a reason when the row is bad.
func checkRow(rec []string, h header, l List) (importRow, string) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return unescapeCell(strings.TrimSpace(norm.NFC.String(rec[i])))
	}
	raw := cell(h.email)
	if raw == "" {
		return importRow{}, "the email column is empty"
	}
	a, err := ParseAddress(raw)
	var ae *AddressError
	if errors.As(err, &ae) {
		return importRow{}, ae.Message + " (" + ae.MessageJA + ")"
	}
	if err := l.checkDomain(a); err != nil {
		return importRow{}, fmt.Sprintf("list %s accepts only addresses at %s", l.Slug, strings.Join(l.AllowedDomains, ", "))
	}
	row := importRow{addr: a, name: cleanName(cell(h.name))}
	for i, key := range h.attrs {
		if v := cell(i); v != "" {
			if row.attrs == nil {
				row.attrs = map[string]string{}
			}
			row.attrs[key] = v
		}
	}
	return row, ""
}

// unescapeCell undoes the export's guard against spreadsheet formulas.
func unescapeCell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
		return v[1:]
	}
	return v
}

// importRow applies one checked row inside the import transaction.
func (s *Store) importRow(ctx context.Context, tx *sql.Tx, l List, row importRow, opt ImportOptions, rep *ImportReport) error {
	key := row.addr.String()
	reason, err := suppressionReason(ctx, tx, key)
	if err != nil {
		return err
	}
	if reason != "" {
		rep.Rejected = append(rep.Rejected, RejectedRow{Line: row.line, Reason: "the address is suppressed (" + reason + ")"})
		return nil
	}
	sub, err := s.ensureSubscriber(ctx, tx, row.addr, row.name, "")
	if err != nil {
		return err
	}
	var unsubAt sql.NullInt64
	var st string
	err = tx.QueryRowContext(ctx, `SELECT status, unsubscribed_at FROM subscriptions WHERE list_id = ? AND subscriber_id = ?`,
		l.ID, sub.ID).Scan(&st, &unsubAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if st == StatusUnsubscribed {
		rep.Rejected = append(rep.Rejected, RejectedRow{Line: row.line, Reason: "the address left this list on " +
			unixOrZero(unsubAt, s.opt.Location).Format(time.DateOnly) + "; an import does not subscribe it again"})
		return nil
	}
	changed, err := s.updateDetails(ctx, tx, sub, row)
	if err != nil {
		return err
	}
	switch {
	case st != StatusConfirmed:
		rep.Added++
		ev := Evidence{Actor: opt.Actor}
		return s.optIn(ctx, tx, l.ID, sub, SourceImport, ev, opt.ConsentSource)
	case changed:
		rep.Updated++
	default:
		rep.Unchanged++
	}
	return nil
}

// updateDetails sets the row's name (when given) and merges its attributes.
func (s *Store) updateDetails(ctx context.Context, tx *sql.Tx, sub subscriber, row importRow) (bool, error) {
	var name, attrs string
	err := tx.QueryRowContext(ctx, `SELECT name, attributes FROM subscribers WHERE id = ?`, sub.ID).Scan(&name, &attrs)
	if err != nil {
		return false, err
	}
	merged := decodeAttributes(attrs)
	if merged == nil {
		merged = map[string]string{}
	}
	before := maps.Clone(merged)
	maps.Copy(merged, row.attrs)
	newName := name
	if row.name != "" {
		newName = row.name
	}
	if newName == name && maps.Equal(before, merged) {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?`,
		newName, encodeAttributes(merged), sub.ID)
	return true, err
}
