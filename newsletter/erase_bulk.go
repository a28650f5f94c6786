package newsletter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"kawaraban/subscribers"
)

// MaxBulkErase bounds one bulk erasure: each subscriber is erased in its
// own transactions across three packages, so a run of a thousand takes
// seconds, and a deletion request concerns people one by one, not a
// whole list.
const MaxBulkErase = 1000

// ErrTooManyToErase: a bulk erasure that selects more than MaxBulkErase
// subscribers; nothing was erased.
var ErrTooManyToErase = errors.New("too many subscribers to erase at once")

// EraseResult says what EraseSelection did.
type EraseResult struct {
	// Matched is how many subscribers the selection held; Erased how
	// many were erased; Skipped how many may did not allow (they are or
	// were on a list the caller may not act on).
	Matched, Erased, Skipped int
}

// EraseSelection erases each subscriber sel selects on its list, as Erase
// does (actor: who; reason: why, required), for deletion requests staff
// handle in bulk. may decides, from the lists a subscriber is or was on,
// whether the caller may erase it (erasing touches every one of them);
// the others are skipped and counted. More than MaxBulkErase selected is
// refused before anything is erased. Erased subscribers leave the
// selection, so running it again after a failure finishes the rest.
func (e *Erasure) EraseSelection(ctx context.Context, sel subscribers.Selection, actor, reason string,
	may func(lists []string) bool) (EraseResult, error) {
	var res EraseResult
	if strings.TrimSpace(reason) == "" {
		return res, subscribers.ErrReasonRequired
	}
	n, err := e.subs.CountSelection(ctx, sel)
	if err != nil {
		return res, err
	}
	if n > MaxBulkErase {
		return res, fmt.Errorf("erasing %d subscribers of %s: %w", n, sel.ListSlug, ErrTooManyToErase)
	}
	q := subscribers.SearchQuery{ListSlug: sel.ListSlug, Status: sel.Status, Text: sel.Text, IDs: sel.IDs, PerPage: 500, SkipTotal: true}
	for {
		rows, _, err := e.subs.Search(ctx, q)
		if err != nil || len(rows) == 0 {
			return res, err
		}
		for _, r := range rows {
			res.Matched++
			lists, err := e.subs.SubscriberLists(ctx, r.SubscriberID)
			if err != nil {
				return res, err
			}
			if !may(lists) {
				res.Skipped++
				continue
			}
			if _, err := e.Erase(ctx, r.SubscriberID, actor, reason); err != nil {
				return res, err
			}
			res.Erased++
		}
		if len(rows) < q.PerPage {
			return res, nil
		}
		q.After = rows[len(rows)-1].SubscriberID
	}
}
