package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
)

// BodyError is a request body that cannot be read as the form it claims to
// be: a broken multipart boundary, bad percent-encoding. It is the
// client's fault, so it is a 400, never a 500 (issue 15).
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "malformed request body: " + e.Err.Error() }

// Unwrap lets statusOf still see a *http.MaxBytesError (413).
func (e *BodyError) Unwrap() error { return e.Err }

// parseBody reads a POST body as a URL-encoded or, when maxMemory > 0,
// also a multipart form. A body that is neither is fine: the form is then
// empty.
func parseBody(r *http.Request, maxMemory int64) error {
	var err error
	if maxMemory > 0 {
		err = r.ParseMultipartForm(maxMemory)
		if errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil, errors.As(err, &mbe):
		return err
	case errors.Is(err, multipart.ErrMessageTooLarge):
		return &http.MaxBytesError{Limit: maxMemory}
	}
	return &BodyError{Err: fmt.Errorf("reading the form: %w", err)}
}
