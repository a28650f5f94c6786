package bounces

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// erasedPrefix starts the keyed hash that stands for an erased address
// (Erasures): the form subscribers keeps in the consent log and the
// suppressions. No address starts with it (a local part with a colon must
// be quoted).
const erasedPrefix = "erased:"

// isErasedKey reports whether email is the stand-in of an erased address.
func isErasedKey(email string) bool {
	return strings.HasPrefix(email, erasedPrefix)
}

// forgetErased keeps an erased address out of what is recorded of ev. A
// report can name an address after its owner had it erased (a late DSN, a
// complaint or an auto-reply that is not tied to an erased delivery, a
// refusal at send time): when the address it is about was erased, ev
// carries the address's key instead, and neither the copy of the message
// nor the diagnostic text, which quote the address (nor the address in
// its own Message-ID). When only another recipient the report names was
// erased, the copy goes and the address is taken out of the diagnostic.
// Each distinct address costs one Erasures.StillErased.
func (s *Service) forgetErased(ctx context.Context, ev *event) error {
	if s.deps.Erasures == nil {
		return nil
	}
	seen := make(map[string]bool, 1+len(ev.named))
	for _, addr := range append([]string{ev.email}, ev.named...) {
		if addr == "" || isErasedKey(addr) || seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		key, erased, err := s.deps.Erasures.StillErased(ctx, addr)
		if err != nil {
			return fmt.Errorf("checking whether a reported address was erased: %w", err)
		}
		if !erased {
			continue
		}
		ev.raw = nil
		if strings.EqualFold(addr, ev.email) {
			ev.email, ev.diagnostic = key, ""
		}
		ev.diagnostic = replaceAddr(ev.diagnostic, addr, "an erased address")
		ev.claim = replaceAddr(ev.claim, addr, "an erased address")
		ev.why = replaceAddr(ev.why, addr, "an erased address")
		// Some mailers build a Message-ID from the address; it becomes
		// the dedupe key too, the same on every reading of the message.
		ev.messageID, ev.dedupeKey = erasedMessageID(ev.messageID, ev.dedupeKey, addr)
	}
	ev.named = nil
	return nil
}

// erasedMessageID is msgID with addr, in any case, replaced by
// "[erased]", and dedupe with it when dedupe was made of msgID.
func erasedMessageID(msgID, dedupe, addr string) (id, newDedupe string) {
	id = replaceAddr(msgID, addr, "[erased]")
	if dedupe == "mid:"+msgID {
		dedupe = "mid:" + id
	}
	return id, dedupe
}

// replaceAddr puts with in the place of addr, in any case, in text.
func replaceAddr(text, addr, with string) string {
	if text == "" {
		return text
	}
	return regexp.MustCompile("(?i)"+regexp.QuoteMeta(addr)).ReplaceAllLiteralString(text, with)
}
