package subscribers

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// importFile is a CSV file being imported: read once to learn its size,
// digest and encoding, then parsed from the start once to check every
// row and once more to write them, so memory does not grow with the file.
type importFile struct {
	rs       io.ReadSeeker
	size     int64
	sha256   string
	encoding string // utf-8 or shift_jis
	seed     maphash.Seed
	lines    int         // newlines + 1: at least the number of rows
	dups     map[int]int // found by the first pass: line → the line it repeats
	cleanup  func()
}

// openImport makes r seekable (an upload that is not is copied to a
// temporary file) and reads it once: size limit, SHA-256, encoding.
func openImport(r io.Reader) (*importFile, error) {
	f := &importFile{seed: maphash.MakeSeed(), cleanup: func() {}}
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		tmp, err := os.CreateTemp("", "kawaraban-import-*.csv")
		if err != nil {
			return nil, fmt.Errorf("spooling CSV: %w", err)
		}
		f.cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
		if _, err := io.Copy(tmp, io.LimitReader(r, MaxImportBytes+1)); err != nil {
			f.cleanup()
			return nil, fmt.Errorf("spooling CSV: %w", err)
		}
		rs = tmp
	}
	f.rs = rs
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		f.cleanup()
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	h := sha256.New()
	check := &utf8Check{ok: true}
	lines := &lineCount{}
	n, err := io.Copy(io.MultiWriter(h, check, lines), io.LimitReader(rs, MaxImportBytes+1))
	if err != nil {
		f.cleanup()
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	if n > MaxImportBytes {
		f.cleanup()
		return nil, badCSV(fmt.Sprintf("CSV is larger than %d MB", MaxImportBytes>>20),
			fmt.Sprintf("ファイルが大きすぎます(上限 %d MB)。いくつかに分けて取り込んでください。", MaxImportBytes>>20))
	}
	f.size, f.sha256, f.lines = n, hex.EncodeToString(h.Sum(nil)), lines.n+1
	f.encoding = "shift_jis"
	if check.valid() {
		f.encoding = "utf-8"
	}
	return f, nil
}

// utf8Check is an io.Writer that tells whether everything written was
// valid UTF-8, across write boundaries.
type utf8Check struct {
	carry []byte // an incomplete rune at the end of the last write
	ok    bool
}

func (c *utf8Check) Write(p []byte) (int, error) {
	if !c.ok {
		return len(p), nil
	}
	b := append(c.carry, p...)
	end := len(b)
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				end = len(b) - i
			}
			break
		}
	}
	if !utf8.Valid(b[:end]) {
		c.ok = false
	}
	c.carry = append(c.carry[:0:0], b[end:]...)
	return len(p), nil
}

func (c *utf8Check) valid() bool { return c.ok && len(c.carry) == 0 }

// lineCount counts newlines.
type lineCount struct{ n int }

func (c *lineCount) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// rowWalk is one pass over the file's rows.
type rowWalk struct {
	cr    *csv.Reader
	count *countingReader
	h     header
	l     List
	seed  maphash.Seed
	enc   string
	// keys collects a hash of each good row's address with its line
	// (first pass); dups then says which lines repeat an earlier one
	// (later passes). 16 bytes a row, where a map of addresses would take
	// ten times that.
	keys []lineKey
	dups map[int]int // line → the line it repeats
}

type lineKey struct {
	hash uint64
	line int32
}

// findDups sorts the keys and returns the lines whose address came
// earlier in the file, each with that earlier line. Duplicates are found
// by a 64-bit hash of the address: two different addresses share one
// with a chance of about 1 in 10^7 in a file of a million rows.
func findDups(keys []lineKey) map[int]int {
	slices.SortFunc(keys, func(a, b lineKey) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	dups := map[int]int{}
	for i := 1; i < len(keys); i++ {
		first := i - 1
		for ; i < len(keys) && keys[i].hash == keys[first].hash; i++ {
			dups[int(keys[i].line)] = int(keys[first].line)
		}
	}
	return dups
}

// readErr is a read or decoding error of the file: bad input.
func (w *rowWalk) readErr(err error) error {
	if w.enc == "shift_jis" {
		return badCSV(fmt.Sprintf("file is neither UTF-8 nor Shift_JIS (%v)", err),
			"文字コードが UTF-8 でも Shift_JIS でもありません。Excel では「CSV UTF-8」または「CSV(コンマ区切り)」で保存してください。")
	}
	return badCSV(fmt.Sprintf("reading CSV: %v", err), "CSVファイルとして読めませんでした。Excel で CSV 形式で保存し直してください。")
}

// walk starts a pass: it rewinds, strips a BOM, decodes Shift_JIS and
// reads the header row.
func (f *importFile) walk(l List) (*rowWalk, error) {
	if _, err := f.rs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	count := &countingReader{r: f.rs}
	br := bufio.NewReaderSize(count, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var text io.Reader = br
	if f.encoding == "shift_jis" {
		text = transform.NewReader(br, japanese.ShiftJIS.NewDecoder())
	}
	cr := csv.NewReader(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, badCSV("the file is empty", "ファイルが空です。")
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, (&rowWalk{enc: f.encoding}).readErr(err)
		}
		return nil, badCSV(fmt.Sprintf("reading the header row: %v", err), "1行目(見出しの行)を読めませんでした。")
	}
	h, err := parseHeader(rec)
	if err != nil {
		return nil, err
	}
	w := &rowWalk{cr: cr, count: count, h: h, l: l, seed: f.seed, enc: f.encoding, dups: f.dups}
	if f.dups == nil {
		w.keys = make([]lineKey, 0, f.lines) // one allocation, not a doubling slice
	}
	return w, nil
}

// next returns the next data row, or a rejection (reason != ""); ok is
// false at the end of the file. In the first pass (dups nil) a repeated
// address is not yet known: its key is collected instead.
func (w *rowWalk) next() (row importRow, reason rejectReason, ok bool, err error) {
	for {
		rec, err := w.cr.Read()
		if errors.Is(err, io.EOF) {
			return row, rejectReason{}, false, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return row, rejectReason{}, false, w.readErr(err)
			}
			return importRow{line: pe.StartLine}, rejectReason{"the row is not valid CSV: " + pe.Err.Error(),
				"CSVの行として読めません(引用符 \" の閉じ忘れなど)"}, true, nil
		}
		if len(rec) == 0 || blank(rec) {
			continue
		}
		line, _ := w.cr.FieldPos(0)
		row, reason := checkRow(rec, w.h, w.l)
		row.line = line
		switch {
		case !reason.none():
		case w.dups == nil:
			w.keys = append(w.keys, lineKey{hash: maphash.String(w.seed, row.addr.String()), line: int32(line)})
		default:
			if first, dup := w.dups[line]; dup {
				reason = dupReason(first)
			}
		}
		return row, reason, true, nil
	}
}

func dupReason(first int) rejectReason {
	return rejectReason{fmt.Sprintf("the same address as line %d", first), fmt.Sprintf("%d行目と同じアドレスです", first)}
}

// read is how many bytes of the file the pass has read.
func (w *rowWalk) read() int64 { return w.count.n }
