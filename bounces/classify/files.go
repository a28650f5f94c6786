package classify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// FileError is a file WriteFiles could not read (Op "open" or "read", as
// package os names it) or classify (Op "").
type FileError struct {
	Op, Path string
	Err      error
}

func (e *FileError) Error() string {
	if e.Op != "" {
		return e.Op + " " + e.Path + ": " + e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// WriteFiles classifies each file in paths and writes its Lines to w, as
// `kawaraban bounce classify` prints them: a JSON object per line when
// asJSON, else TSV. A file that cannot be read or classified is skipped
// and the others are written; the returned error joins a *FileError for
// each skipped file. An error writing to w stops at once and is returned
// as it is.
func WriteFiles(w io.Writer, paths []string, asJSON bool) error {
	enc := json.NewEncoder(w)
	var failed []error
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			failed = append(failed, readError(path, err))
			continue
		}
		rep, err := Parse(raw)
		if err != nil {
			failed = append(failed, &FileError{Path: path, Err: err})
			continue
		}
		for _, l := range rep.Lines(path) {
			if asJSON {
				err = enc.Encode(l)
			} else {
				_, err = fmt.Fprintln(w, l.TSV())
			}
			if err != nil {
				return fmt.Errorf("writing the lines of %s: %w", path, err)
			}
		}
	}
	return errors.Join(failed...)
}

// readError is os.ReadFile's error on path as a *FileError, with the same
// text.
func readError(path string, err error) *FileError {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &FileError{Op: pe.Op, Path: pe.Path, Err: pe.Err}
	}
	return &FileError{Op: "read", Path: path, Err: err}
}
