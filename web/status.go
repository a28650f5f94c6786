package web

import (
	"errors"
	"fmt"
	"net/http"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/localmail"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// domainErr turns the errors of the domain and the application layer that
// a person can correct into an *InputError with the Japanese and English
// text the page shows next to the form; statusOf then chooses the status.
// With statusOf it is the one mapping from domain errors to what a user
// sees (the adapters in domain.go pass every error through it).
func domainErr(err error) error {
	var re *newsletter.RecipientsError
	var ce *subscribers.CSVError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return &InputError{Field: "list", Message: fmt.Sprintf("list %s has %d recipients: nothing to send", re.List, re.Recipients),
			MessageJA: fmt.Sprintf("配信先が%d件のため配信できません。登録者がいることを確かめてください。", re.Recipients), cause: err}
	case errors.Is(err, newsletter.ErrPastSendAt):
		return &InputError{Field: "send_at", Message: err.Error(),
			MessageJA: "配信日時が過去です。これから先の日時を選んでください。", cause: err}
	case errors.Is(err, localmail.ErrBadInbound):
		return &InputError{Field: "mail", Message: err.Error(), MessageJA: "差出人・宛先のアドレスか件名を確認してください: " + err.Error(), cause: err}
	case errors.Is(err, subscribers.ErrNoList):
		return &InputError{Field: "list", Message: "choose at least one list", MessageJA: "配信リストを1つ以上選んでください", cause: err}
	case errors.Is(err, subscribers.ErrDomainNotAllowed):
		return &InputError{Field: "email", Message: err.Error(), MessageJA: "このリストに登録できないドメインのアドレスです", cause: err}
	case errors.Is(err, subscribers.ErrConsentSourceRequired):
		return &InputError{Field: "consent_source", Message: err.Error(),
			MessageJA: "公開のメールマガジンに取り込むときは「同意の取得方法」を書いてください(例: 2026年度 窓口申込書)。", cause: err}
	case errors.As(err, &ce):
		return &InputError{Field: "file", Message: ce.Message, MessageJA: ce.MessageJA, cause: err}
	case errors.Is(err, subscribers.ErrBadCSV):
		return &InputError{Field: "file", Message: err.Error(), MessageJA: "CSVファイルを確認してください: " + err.Error(), cause: err}
	case errors.Is(err, issues.ErrInvalid):
		return &InputError{Field: "issue", Message: err.Error(), MessageJA: issueProblemsJA(err.Error()), cause: err}
	case errors.Is(err, scheduler.ErrInvalidSpec):
		return &InputError{Field: "spec", Message: err.Error(), MessageJA: "実行時期の指定が正しくありません: " + err.Error(), cause: err}
	case errors.Is(err, scheduler.ErrUnknownTimezone):
		return &InputError{Field: "tz", Message: err.Error(), MessageJA: "タイムゾーンが見つかりません: " + err.Error(), cause: err}
	}
	var ae *subscribers.AddressError
	if errors.As(err, &ae) {
		return &InputError{Field: "email", Message: ae.Message, MessageJA: ae.MessageJA, cause: err}
	}
	var te *templates.TemplateError
	if errors.As(err, &te) || errors.Is(err, templates.ErrTemplate) || errors.Is(err, templates.ErrMissingLegal) ||
		errors.Is(err, templates.ErrInvalidInput) {
		return bodyErr(err)
	}
	return err
}

// bodyErr is a draft that does not render for its list (a template error,
// or the list lacks its legal sender details).
func bodyErr(err error) error {
	return &InputError{Field: "body_markdown", Message: err.Error(), MessageJA: "本文またはリストの設定に誤りがあります: " + err.Error(), cause: err}
}

// errForbidden is answered when authorize says no.
var errForbidden = errors.New("forbidden")

// statusOf maps a domain error to an HTTP status and a message key of the
// catalog. It is the one place where domain errors become HTTP.
func statusOf(err error) (int, string) {
	var ie *InputError
	var mbe *http.MaxBytesError
	var te *templates.TemplateError
	var ae *subscribers.AddressError
	var be *BodyError
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "err.toolarge"
	case errors.As(err, &be):
		return http.StatusBadRequest, "err.badrequest"
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "err.forbidden"
	case errors.Is(err, errUnavailable), errors.Is(err, store.ErrUnhealthy):
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
		errors.Is(err, scheduler.ErrNotFound),
		errors.Is(err, subscribers.ErrNotFound), errors.Is(err, progress.ErrNotFound), errors.Is(err, bounces.ErrNotFound),
		errors.Is(err, newsletter.ErrNoSuchLink):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, ErrApprovalRequired), errors.Is(err, issues.ErrNeedsApproval):
		return http.StatusConflict, "err.approval"
	case errors.Is(err, issues.ErrSelfApproval):
		return http.StatusConflict, "err.selfapproval"
	case errors.Is(err, ErrConflict), errors.Is(err, issues.ErrInvalidTransition), errors.Is(err, issues.ErrImmutable),
		errors.Is(err, bounces.ErrNotUnverified):
		return http.StatusConflict, "err.conflict"
	case errors.Is(err, ErrUserExists):
		return http.StatusConflict, "err.userexists"
	case errors.Is(err, ErrWeakPassword):
		return http.StatusUnprocessableEntity, "err.weakpassword"
	case errors.Is(err, ErrBadLogin):
		return http.StatusUnprocessableEntity, "err.badlogin"
	case errors.Is(err, ErrBadRole):
		return http.StatusUnprocessableEntity, "err.badrole"
	case errors.Is(err, ErrUnknownToken):
		// Invalid fields of a readable request: 422, as every other
		// input error (issue 15); 400 is for bodies that cannot be read.
		return http.StatusUnprocessableEntity, "err.input"
	}
	return http.StatusInternalServerError, "err.internal"
}

// userMessage is what a page says about err: an input error's own message
// in the page's language, or the catalog text for key.
func userMessage(v *view, key string, err error) string {
	if msg, ok := v.TemplateProblem(err); ok {
		return msg
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return v.Name(ie.MessageJA, ie.Message)
	}
	var ae *subscribers.AddressError
	if errors.As(err, &ae) {
		return v.Name(ae.MessageJA, ae.Message)
	}
	return v.T(key)
}
