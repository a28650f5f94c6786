package mailer

import (
	"strings"
	"time"

	"kawaraban/token"
)

const verpPurpose = "verp"

// VERP returns the envelope sender for a delivery:
// bounces+TOKEN@ReturnPathDomain, TOKEN an HMAC-signed, non-expiring token
// naming the delivery. It returns "" when no Signer or domain is configured.
func (m *Mailer) VERP(deliveryID int64) string {
	if m.opt.Signer == nil || m.opt.ReturnPathDomain == "" {
		return ""
	}
	tok := m.opt.Signer.Sign(verpPurpose, token.IDs(deliveryID), time.Time{})
	return "bounces+" + tok + "@" + m.opt.ReturnPathDomain
}

// ParseVERP returns the delivery named by a VERP address made by VERP. The
// domain is compared case-insensitively and ignored when no
// ReturnPathDomain is configured; a forged or damaged token gives ok false.
func (m *Mailer) ParseVERP(addr string) (deliveryID int64, ok bool) {
	if m.opt.Signer == nil {
		return 0, false
	}
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return 0, false
	}
	local, domain := addr[:at], addr[at+1:]
	if m.opt.ReturnPathDomain != "" && !strings.EqualFold(domain, m.opt.ReturnPathDomain) {
		return 0, false
	}
	tok, found := strings.CutPrefix(strings.ToLower(local[:min(len(local), 8)])+local[min(len(local), 8):], "bounces+")
	if !found {
		return 0, false
	}
	payload, err := m.opt.Signer.Verify(verpPurpose, tok, m.now())
	if err != nil {
		return 0, false
	}
	ids, err := token.ParseIDs(payload, 1)
	if err != nil {
		return 0, false
	}
	return ids[0], true
}
