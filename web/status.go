package web

import (
	"errors"
	"net/http"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/progress"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// errForbidden is answered when authorize says no.
var errForbidden = errors.New("forbidden")

// statusOf maps a domain error to an HTTP status and a message key of the
// catalog. It is the one place where domain errors become HTTP.
func statusOf(err error) (int, string) {
	var ie *InputError
	var mbe *http.MaxBytesError
	var te *templates.TemplateError
	var ae *subscribers.AddressError
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "err.toolarge"
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "err.forbidden"
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable, "err.unavailable"
	case errors.As(err, &ie), errors.As(err, &te), errors.As(err, &ae),
		errors.Is(err, issues.ErrInvalid), errors.Is(err, templates.ErrTemplate),
		errors.Is(err, templates.ErrInvalidInput), errors.Is(err, templates.ErrMissingLegal),
		errors.Is(err, subscribers.ErrNoList), errors.Is(err, subscribers.ErrDomainNotAllowed),
		errors.Is(err, subscribers.ErrConsentSourceRequired), errors.Is(err, subscribers.ErrBadCSV),
		errors.Is(err, subscribers.ErrUnknownList), errors.Is(err, progress.ErrInvalidReport):
		return http.StatusUnprocessableEntity, "err.input"
	case errors.Is(err, progress.ErrReportClosed):
		return http.StatusConflict, "rep.closed"
	case errors.Is(err, token.ErrExpired), errors.Is(err, subscribers.ErrExpiredToken):
		return http.StatusGone, "err.expired"
	case errors.Is(err, ErrInvalidToken), errors.Is(err, token.ErrForged), errors.Is(err, token.ErrMalformed),
		errors.Is(err, subscribers.ErrBadToken), errors.Is(err, progress.ErrInvalidToken):
		return http.StatusNotFound, "err.token"
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownUser), errors.Is(err, issues.ErrNotFound),
		errors.Is(err, subscribers.ErrNotFound), errors.Is(err, progress.ErrNotFound), errors.Is(err, bounces.ErrNotFound):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, ErrApprovalRequired), errors.Is(err, issues.ErrNeedsApproval):
		return http.StatusConflict, "err.approval"
	case errors.Is(err, issues.ErrSelfApproval):
		return http.StatusConflict, "err.selfapproval"
	case errors.Is(err, ErrConflict), errors.Is(err, issues.ErrInvalidTransition), errors.Is(err, issues.ErrImmutable):
		return http.StatusConflict, "err.conflict"
	case errors.Is(err, ErrUserExists):
		return http.StatusConflict, "err.userexists"
	case errors.Is(err, ErrBadRole), errors.Is(err, ErrBadLogin), errors.Is(err, ErrWeakPassword):
		return http.StatusBadRequest, "err.input"
	}
	return http.StatusInternalServerError, "err.internal"
}

// userMessage is what a page says about err: an input error's own message
// in the page's language, or the catalog text for key.
func userMessage(v *view, key string, err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return v.Name(ie.MessageJA, ie.Message)
	}
	var ae *subscribers.AddressError
	if errors.As(err, &ae) {
		return v.Name(ae.MessageJA, ae.Message)
	}
	var te *templates.TemplateError
	if errors.As(err, &te) {
		return v.T(key) + " (" + te.Error() + ")"
	}
	return v.T(key)
}
