package subscribers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// MaxImportBytes caps the size of an imported CSV file. The file is read
// as a stream (twice: to check, then to write), so memory does not grow
// with it.
const MaxImportBytes = 512 << 20

// ImportOptions says where and how to import.
type ImportOptions struct {
	// ListSlug is the list the rows join.
	ListSlug string
	// ConsentSource says where the consent of these people was given (e.g.
	// "2025年度 窓口申込書"). Required for a public list; recorded with
	// every opt-in.
	ConsentSource string
	// DryRun checks and reports everything and changes nothing; it takes
	// no write lock.
	DryRun bool
	// Actor names who imports (recorded as evidence).
	Actor string
	// FileName names the file in the import record.
	FileName string
	// Progress, when set, is told how the import goes, a few times a
	// second at most.
	Progress func(ImportProgress)
}

// ImportProgress is how far an import is.
type ImportProgress struct {
	// ImportID is the import record's id (0 for a dry run).
	ImportID int64
	// Phase is "checking" (Done and Total count bytes of the file) or
	// "writing" (they count the rows to write).
	Phase       string
	Done, Total int64
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	// ImportID is the import record's id (0 for a dry run).
	ImportID int64
	// Resumed is true when the import went on from an earlier one of the
	// same file that had stopped half-way.
	Resumed bool
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

// CSVError is a file an import refuses as a whole (nothing is written),
// worded in English (Message: the CLI, logs) and Japanese (MessageJA: the
// admin UI). It wraps ErrBadCSV.
type CSVError struct {
	Message, MessageJA string
}

func (e *CSVError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrBadCSV) true.
func (e *CSVError) Unwrap() error { return ErrBadCSV }

func badCSV(en, ja string) error { return &CSVError{Message: en, MessageJA: ja} }

// RejectedRow is one row that was not imported.
type RejectedRow struct {
	// Line is the row's line number in the file (the header is line 1).
	Line int
	// Reason says why in English, ReasonJA in Japanese (the CLI prints
	// both, the admin UI the one of its language).
	Reason, ReasonJA string
}

// rejectReason is why a row is refused, in English (the CLI, logs) and
// Japanese (the admin UI); the zero value means the row is fine.
type rejectReason struct{ en, ja string }

func (r rejectReason) none() bool { return r.en == "" }

// row is the rejection of the row at line.
func (r rejectReason) row(line int) RejectedRow {
	return RejectedRow{Line: line, Reason: r.en, ReasonJA: r.ja}
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

// Import adds the rows of a CSV file to a list. The file is UTF-8, with
// or without BOM, or Shift_JIS as Excel in Japan writes it; the header row
// names the columns (email required; name optional; others become
// attributes). Importing the same file again changes nothing. Rows are
// rejected, each with its line and a reason, for a bad or duplicate
// address, a domain an internal list does not allow, a suppressed
// address, or an address that left the list (an import never subscribes
// someone again).
//
// Every row is read and checked before anything is written (the import
// record too), outside any transaction: a file that is not CSV, not UTF-8
// or Shift_JIS, or has no email column changes nothing, and a dry run
// takes no write lock at all.
// The checked rows are then written in short batches (a fraction of a
// second each, so the daemon's writes go on between them), each batch in
// one transaction with the import record (table subscriber_imports) that
// shows the progress. If the import stops half-way — a crash, a full
// disk — the rows written so far stay (each with its consent event), the
// record says where it stopped, and importing the same file into the
// same list again resumes there.
func (s *Store) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{DryRun: opt.DryRun}
	l, err := s.ListBySlug(ctx, opt.ListSlug)
	if err != nil {
		return rep, err
	}
	if err := l.checkOpen(); err != nil {
		return rep, err
	}
	if l.Public() && strings.TrimSpace(opt.ConsentSource) == "" {
		return rep, fmt.Errorf("list %s: %w", l.Slug, ErrConsentSourceRequired)
	}
	f, err := openImport(r)
	if err != nil {
		return rep, err
	}
	defer f.cleanup()
	rep.Encoding = f.encoding
	im := &importer{s: s, l: l, opt: opt, f: f, rep: &rep}
	if opt.DryRun {
		if err := im.check(ctx); err != nil {
			return ImportReport{Encoding: f.encoding, DryRun: true}, err
		}
		if err := im.plan(ctx); err != nil {
			return ImportReport{Encoding: f.encoding, DryRun: true}, err
		}
		sortRejected(rep.Rejected)
		return rep, nil
	}
	if err := im.check(ctx); err != nil {
		return ImportReport{Encoding: f.encoding}, err
	}
	if err := im.start(ctx); err != nil {
		return ImportReport{Encoding: f.encoding}, err
	}
	if err := im.write(ctx); err != nil {
		im.stop(ctx, "failed", err)
		return ImportReport{Encoding: f.encoding, ImportID: im.id}, fmt.Errorf(
			"import %d stopped after line %d (the rows before it are in; import the same file again to resume): %w",
			im.id, im.lineDone, err)
	}
	if err := im.finish(ctx); err != nil {
		return ImportReport{Encoding: f.encoding, ImportID: im.id}, err
	}
	sortRejected(rep.Rejected)
	s.log.Info("subscribers imported", "list_id", l.ID, "import_id", im.id, "added", rep.Added, "updated", rep.Updated,
		"rejected", len(rep.Rejected), "resumed", rep.Resumed, "longest_batch_ms", im.longest.Milliseconds())
	return rep, nil
}

func sortRejected(rs []RejectedRow) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Line < rs[j].Line })
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
		return h, badCSV("the header row (line 1) has no email column (email or メールアドレス)",
			"1行目(見出しの行)にメールアドレスの列がありません。列の名前を「メールアドレス」にしてください。")
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

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// checkRow reads one data row; it returns a reason when the row is bad.
func checkRow(rec []string, h header, l List) (importRow, rejectReason) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return unescapeCell(strings.TrimSpace(norm.NFC.String(rec[i])))
	}
	raw := cell(h.email)
	if raw == "" {
		return importRow{}, rejectReason{"the email column is empty", "メールアドレスの欄が空です"}
	}
	a, err := ParseAddress(raw)
	var ae *AddressError
	if errors.As(err, &ae) {
		return importRow{}, rejectReason{ae.Message, ae.MessageJA}
	}
	if err := l.checkDomain(a); err != nil {
		doms := strings.Join(l.AllowedDomains, ", ")
		return importRow{}, rejectReason{fmt.Sprintf("list %s accepts only addresses at %s", l.Slug, doms),
			fmt.Sprintf("このメールマガジンに登録できるのは %s のアドレスだけです", doms)}
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
	return row, rejectReason{}
}

// unescapeCell undoes the export's guard against spreadsheet formulas.
func unescapeCell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
		return v[1:]
	}
	return v
}

// mergeDetails is the name and attributes a subscriber has after the row
// is applied, and whether they differ from name and attrs (JSON).
func mergeDetails(name, attrs string, row importRow) (string, map[string]string, bool) {
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
	return newName, merged, newName != name || !maps.Equal(before, merged)
}

// detailsChange tells whether the row would change a subscriber's name
// or attributes.
func detailsChange(name, attrs string, row importRow) bool {
	_, _, changed := mergeDetails(name, attrs, row)
	return changed
}
