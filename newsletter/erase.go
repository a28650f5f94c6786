package newsletter

import (
	"context"
	"fmt"
	"strings"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// Erasure serves a deletion request under the personal-information law
// across the packages that hold a subscriber's address: the outbox and
// system-mail queue (mailer), the bounce records (bounces) and the
// subscribers' own tables, where a keyed hash of the address stays
// (subscribers.Store.Erase; docs/subscribers.md).
type Erasure struct {
	subs    *subscribers.Store
	mail    *mailer.Mailer
	bounces *bounces.Service
}

// NewErasure returns the erasure over the three stores; m and b may be nil
// where a program has no outbox or bounce reader.
func NewErasure(subs *subscribers.Store, m *mailer.Mailer, b *bounces.Service) *Erasure {
	return &Erasure{subs: subs, mail: m, bounces: b}
}

// Erase erases subscriber id (actor: who; reason: why, required). The
// other packages forget the address first, while the subscriber row still
// names it, so that an erasure stopped half-way (a crash, a full disk) is
// finished by erasing again; the subscriber row goes last. From then on
// bounces records a report naming the address under its keyed hash
// (bounces.Erasures); the bounces are gone over once more for a report
// read in between.
func (e *Erasure) Erase(ctx context.Context, id int64, actor, reason string) (subscribers.Erased, error) {
	if strings.TrimSpace(reason) == "" {
		return subscribers.Erased{}, subscribers.ErrReasonRequired
	}
	p, err := e.subs.Profile(ctx, id)
	if err != nil {
		return subscribers.Erased{}, err
	}
	if e.mail != nil {
		if err := e.mail.ForgetRecipient(ctx, id, p.Email); err != nil {
			return subscribers.Erased{}, fmt.Errorf("erasing subscriber %d: %w", id, err)
		}
	}
	if e.bounces != nil {
		if err := e.bounces.ForgetAddress(ctx, id, p.Email); err != nil {
			return subscribers.Erased{}, fmt.Errorf("erasing subscriber %d: %w", id, err)
		}
	}
	out, err := e.subs.Erase(ctx, id, actor, reason)
	if err != nil || e.bounces == nil {
		return out, err
	}
	// Until subscribers has recorded the erasure, bounces records a report
	// naming the address with it (Attribution.StillErased says no); one
	// read between the first pass and now is forgotten by a second.
	if err := e.bounces.ForgetAddress(ctx, id, p.Email); err != nil {
		return out, fmt.Errorf("erased subscriber %d, then forgetting a report read meanwhile: %w", id, err)
	}
	return out, nil
}
