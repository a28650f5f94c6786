package web

import (
	"errors"
	"net/http"

	"kawaraban/token"
)

// errForbidden is answered when authorize says no.
var errForbidden = errors.New("forbidden")

// statusOf maps a domain error to an HTTP status and a message key of the
// catalog. It is the one place where domain errors become HTTP.
func statusOf(err error) (int, string) {
	var ie *InputError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "err.toolarge"
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "err.forbidden"
	case errors.As(err, &ie):
		return http.StatusUnprocessableEntity, "err.input"
	case errors.Is(err, token.ErrExpired):
		return http.StatusGone, "err.expired"
	case errors.Is(err, ErrInvalidToken), errors.Is(err, token.ErrForged), errors.Is(err, token.ErrMalformed):
		return http.StatusNotFound, "err.token"
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownUser):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, ErrApprovalRequired):
		return http.StatusConflict, "err.approval"
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, "err.conflict"
	case errors.Is(err, ErrUserExists):
		return http.StatusConflict, "err.userexists"
	case errors.Is(err, ErrBadRole), errors.Is(err, ErrBadLogin), errors.Is(err, ErrWeakPassword):
		return http.StatusBadRequest, "err.input"
	}
	return http.StatusInternalServerError, "err.internal"
}
