package web

import (
	"context"
	"io"

	"kawaraban/newsletter"
	"kawaraban/subscribers"
)

// The subscriber list's filters, counts and bulk actions (issue 17) over
// the real store (SubscriberBrowser).

func (w webSubscriberAdmin) ExportSelection(ctx context.Context, wr io.Writer, sel subscribers.Selection) error {
	return w.Store.ExportSelection(ctx, wr, sel, true)
}

func (w webSubscriberAdmin) EraseSelection(ctx context.Context, sel subscribers.Selection, actor, reason string,
	may func(lists []string) bool) (newsletter.EraseResult, error) {
	return w.erasure.EraseSelection(ctx, sel, actor, reason, may)
}
