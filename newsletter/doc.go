// Package newsletter is kawaraban's application layer: the use cases where
// an issue meets its list, its subscribers, the templates and the outbox.
//
// It owns one table, link_clicks (stats.go, clicks.go): the sums of
// the click redirect. It composes and renders an issue per recipient
// (charset, List-Id, Feedback-ID, the unsubscribe mailto), renders previews
// and test sends, coordinates an issue's state (package issues) with the
// outbox (package mailer) — send now, schedule, pause, resume, cancel,
// retry, the snapshot race —, runs the recurring "oldest ready draft"
// rule, computes list and issue statistics (delivered, bounced,
// unsubscribed within 7 days, clicks per link; no open tracking), sends system mail (confirmations,
// reminders) and attributes bounces to their delivery, issue and list.
//
// web calls it; cmd/kawaraban builds it. It never speaks HTTP and returns
// the domain packages' errors (or its own sentinels) for web to map.
package newsletter
