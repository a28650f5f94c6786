package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

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
// sees: statusOf, userMessage and apiFail apply it, so the handler groups'
// values (deps.go) return the domain's errors as they are.
func domainErr(err error) error {
	var re *newsletter.RecipientsError
	var ce *subscribers.CSVError
	var worded *InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &worded):
		return err // worded already (applying it twice would repeat the field)
	case errors.As(err, &re):
		return &InputError{Field: "list", Message: fmt.Sprintf("list %s has %d recipients: nothing to send", re.List, re.Recipients),
			MessageJA: fmt.Sprintf("配信先が%d件のため配信できません。登録者がいることを確かめてください。", re.Recipients), cause: err}
	case errors.Is(err, newsletter.ErrPastSendAt):
		return &InputError{Field: "send_at", Message: err.Error(),
			MessageJA: "配信日時が過去です。これから先の日時を選んでください。", cause: err}
	case errors.Is(err, localmail.ErrBadInbound):
		return &InputError{Field: "mail", Message: err.Error(), MessageJA: "差出人・宛先のアドレスか件名を確認してください(件名に改行は使えません)。", cause: err}
	case errors.Is(err, newsletter.ErrTooManyToErase):
		return &InputError{Field: "action", Message: err.Error(), MessageJA: "一度に消去できるのは1,000人までです。絞り込んでから行ってください。", cause: err}
	case errors.Is(err, subscribers.ErrDeepOffset):
		return &InputError{Field: "page", Message: err.Error(), MessageJA: "ページが深すぎます。「次へ」のリンクでたどってください。", cause: err}
	case errors.Is(err, subscribers.ErrTooManyIDs):
		return &InputError{Field: "ids", Message: err.Error(), MessageJA: "一度に選べるのは1,000人までです。", cause: err}
	case errors.Is(err, subscribers.ErrBadAction):
		return &InputError{Field: "action", Message: err.Error(), MessageJA: "操作を選んでください。", cause: err}
	case errors.Is(err, subscribers.ErrBadStatus):
		return &InputError{Field: "status", Message: err.Error(), MessageJA: "状態の指定を確認してください", cause: err}
	case errors.Is(err, subscribers.ErrNoList):
		return &InputError{Field: "list", Message: "choose at least one list", MessageJA: "配信リストを1つ以上選んでください", cause: err}
	case errors.Is(err, subscribers.ErrListClosed):
		return &InputError{Field: "list", Message: "this list no longer takes new subscribers (" + err.Error() + ")",
			MessageJA: "このメールマガジンは新規登録の受付を終了しました。", cause: err}
	case errors.Is(err, subscribers.ErrDomainNotAllowed):
		return &InputError{Field: "email", Message: err.Error(), MessageJA: "このリストに登録できないドメインのアドレスです", cause: err}
	case errors.Is(err, subscribers.ErrConsentSourceRequired):
		return &InputError{Field: "consent_source", Message: err.Error(),
			MessageJA: "公開のメールマガジンに取り込むときは「同意の取得方法」を書いてください(例: 2026年度 窓口申込書)。", cause: err}
	case errors.As(err, &ce):
		return &InputError{Field: "file", Message: ce.Message, MessageJA: ce.MessageJA, cause: err}
	case errors.Is(err, subscribers.ErrBadCSV):
		return &InputError{Field: "file", Message: err.Error(), MessageJA: "CSVファイルを読み込めません。1行目が見出しで、メールアドレスの列があるか確かめてください。", cause: err}
	case errors.Is(err, subscribers.ErrReasonRequired):
		return &InputError{Field: "reason", Message: "a reason is required", MessageJA: "理由を入力してください", cause: err}
	case errors.Is(err, subscribers.ErrBadAttributes):
		return &InputError{Field: "attributes", Message: err.Error(),
			MessageJA: "属性は1行に1つ「項目=値」の形で書いてください(項目は64字、値は500字、50項目まで。改行などの制御文字は使えません)", cause: err}
	case errors.Is(err, subscribers.ErrPreviouslyErased):
		return &InputError{Field: "email", Message: err.Error(),
			MessageJA: "このアドレスは本人の依頼により消去済みです。本人が登録し直したときだけ登録できます", cause: err}
	case errors.Is(err, scheduler.ErrInvalidSpec):
		return &InputError{Field: "spec", Message: err.Error(), MessageJA: "実行時期の指定が正しくありません。「分 時 日 月 曜日」の5つの欄で書いてください(例: 毎週月曜9時は「0 9 * * 1」)。タイムゾーンは別の欄に書きます。", cause: err}
	case errors.Is(err, scheduler.ErrUnknownTimezone):
		return &InputError{Field: "tz", Message: err.Error(), MessageJA: "タイムゾーンが見つかりません。Asia/Tokyo のような名前で書いてください。", cause: err}
	}
	var ie *issues.InvalidError
	if errors.As(err, &ie) {
		return &InputError{Field: "issue", Message: err.Error(), MessageJA: issueProblemsJA(ie.Problems), cause: err}
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
	return &InputError{Field: "body_markdown", Message: err.Error(), MessageJA: bodyErrJA(err), cause: err}
}

// bodyErrJA words a draft that does not render in Japanese, without the
// English detail of Message (a placeholder's line and column in the
// subject or body are worded by view.TemplateProblem, which userMessage
// asks first).
func bodyErrJA(err error) string {
	var te *templates.TemplateError
	switch {
	case errors.Is(err, templates.ErrMissingLegal):
		return "このリストには法律で必要な送信者の情報(送信者名・住所・問い合わせ先)が足りません。リストの設定で補ってください。"
	case errors.Is(err, templates.ErrInvalidInput):
		return "件名に改行があるか、サイトのアドレスの設定に誤りがあります。件名を1行にし、それでも直らなければ管理者に連絡してください。"
	case errors.As(err, &te):
		return "テンプレート「" + te.File + "」に誤りがあり、メールを作れません。管理者に連絡してください。"
	}
	return "本文またはテンプレートに誤りがあり、メールを作れません。本文の書き方を確かめ、直らなければ管理者に連絡してください。"
}

// issueProblemsJA words a refused draft's problems in Japanese for the
// compose form, from their codes.
func issueProblemsJA(ps []issues.Problem) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = issueProblemJA(p)
	}
	return strings.Join(out, "。") + "。"
}

func issueProblemJA(p issues.Problem) string {
	what := map[string]string{"subject": "件名", "body_markdown": "本文", "list": "メールマガジン", "comment": "コメント", "lists": "配信先"}[p.Field]
	switch p.Code {
	case issues.CodeEmpty:
		return what + "を入力してください"
	case issues.CodeLineBreak:
		return what + "に改行は使えません"
	case issues.CodeNotUTF8:
		return what + "に読み取れない文字があります"
	case issues.CodeTooLong:
		return fmt.Sprintf("%sは%d文字以内にしてください", what, p.Limit)
	case issues.CodeTooLarge:
		return fmt.Sprintf("%sが長すぎます(%dバイトまで)", what, p.Limit)
	case issues.CodeMissing:
		return what + "を選んでください"
	case issues.CodeRequired:
		if p.Field == "comment" {
			return "差し戻しの理由をコメントに書いてください"
		}
		return what + "を入力してください"
	}
	return what + "を確かめてください"
}

// errForbidden is answered when authorize says no.
var errForbidden = errors.New("forbidden")

// statusOf maps a domain error to an HTTP status and a message key of the
// catalog. It is the one place where domain errors become HTTP.
func statusOf(err error) (int, string) {
	err = domainErr(err) // the handler groups' values return the domain's errors
	var ie *InputError
	var mbe *http.MaxBytesError
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
	case errors.As(err, &ie), // domainErr's, and web's own
		errors.Is(err, subscribers.ErrUnknownList), errors.Is(err, progress.ErrInvalidReport),
		errors.Is(err, subscribers.ErrBadList):
		return http.StatusUnprocessableEntity, "err.input"
	case errors.Is(err, progress.ErrReportClosed):
		return http.StatusConflict, "rep.closed"
	case errors.Is(err, token.ErrExpired), errors.Is(err, subscribers.ErrExpiredToken):
		return http.StatusGone, "err.expired"
	case errors.Is(err, token.ErrForged), errors.Is(err, token.ErrMalformed),
		errors.Is(err, subscribers.ErrBadToken), errors.Is(err, progress.ErrInvalidToken):
		return http.StatusNotFound, "err.token"
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownUser), errors.Is(err, issues.ErrNotFound),
		errors.Is(err, scheduler.ErrNotFound),
		errors.Is(err, subscribers.ErrNotFound), errors.Is(err, progress.ErrNotFound), errors.Is(err, bounces.ErrNotFound),
		errors.Is(err, newsletter.ErrNoSuchLink):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, issues.ErrNeedsApproval):
		return http.StatusConflict, "err.approval"
	case errors.Is(err, issues.ErrSelfApproval):
		return http.StatusConflict, "err.selfapproval"
	case errors.Is(err, ErrConflict), errors.Is(err, issues.ErrInvalidTransition), errors.Is(err, issues.ErrImmutable),
		errors.Is(err, bounces.ErrNotUnverified), errors.Is(err, subscribers.ErrNotSuppressed):
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
	err = domainErr(err)
	if msg, ok := v.TemplateProblem(err); ok {
		return msg
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return v.Name(ie.MessageJA, ie.Message)
	}
	return v.T(key)
}
