package bounces

import (
	"bufio"
	"bytes"
	"net/mail"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// UnsubscribeMailto returns the address for the mailto: URI of a
// List-Unsubscribe header (RFC 2369 §3.2): unsubscribe+TOKEN@domain, where
// tok is a token.Signer token for purpose "unsubscribe". Tokens contain only
// [A-Za-z0-9_-], so the local part needs no quoting. Mail to this address
// unsubscribes the address the token names.
func UnsubscribeMailto(domain, tok string) string {
	return "unsubscribe+" + tok + "@" + domain
}

// JoinAddress returns the join address of a list: <slug>-join@domain. Mail
// to it, empty or not, starts a subscription that must be confirmed.
func JoinAddress(domain, slug string) string {
	return slug + "-join@" + domain
}

// splitAddr splits an address into local part and domain.
func splitAddr(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// unsubscribeToken returns the token of an address made by
// UnsubscribeMailto for domain. The token keeps its case: tokens are
// case-sensitive, so addresses must be read from the raw headers.
func unsubscribeToken(addr, domain string) (string, bool) {
	local, dom, ok := splitAddr(addr)
	if !ok || !strings.EqualFold(dom, domain) {
		return "", false
	}
	const prefix = "unsubscribe+"
	if len(local) <= len(prefix) || !strings.EqualFold(local[:len(prefix)], prefix) {
		return "", false
	}
	return local[len(prefix):], true
}

// defaultJoin accepts <slug>-join@domain and join+<slug>@domain.
func defaultJoin(domain string) func(string) (string, bool) {
	return func(addr string) (string, bool) {
		local, dom, ok := splitAddr(strings.ToLower(addr))
		if !ok || domain == "" || dom != strings.ToLower(domain) {
			return "", false
		}
		if slug, ok := strings.CutSuffix(local, "-join"); ok && validSlug(slug) {
			return slug, true
		}
		if slug, ok := strings.CutPrefix(local, "join+"); ok && validSlug(slug) {
			return slug, true
		}
		return "", false
	}
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// rawHeader holds the top-level header fields bounces reads itself, with
// case preserved.
type rawHeader struct {
	envelopeTo []string // Delivered-To, X-Original-To, To, Cc, in that order
	from       string   // bare address of From
	messageID  string
	auto       bool // Auto-Submitted other than "no" (RFC 3834 §5)
}

// readRawHeader reads the top-level header of raw. Bad input gives an
// empty result, never an error: the classifier decides what the mail is.
func readRawHeader(raw []byte) rawHeader {
	var rh rawHeader
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil && h.Len() == 0 {
		return rh
	}
	for _, k := range []string{"Delivered-To", "X-Original-To", "To", "Cc"} {
		for _, v := range h.Values(k) {
			rh.envelopeTo = append(rh.envelopeTo, addrList(v)...)
		}
	}
	if from := addrList(h.Get("From")); len(from) > 0 {
		rh.from = from[0]
	}
	rh.messageID = trimID(h.Get("Message-Id"))
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	rh.auto = as != "" && as != "no"
	return rh
}

// addrList parses an address list leniently: carrier addresses such as
// a..b.@docomo.ne.jp fail net/mail, so fall back to what is inside <>, or
// the whole trimmed value.
func addrList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if list, err := mail.ParseAddressList(v); err == nil {
		out := make([]string, 0, len(list))
		for _, a := range list {
			out = append(out, a.Address)
		}
		return out
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if i := strings.LastIndexByte(part, '<'); i >= 0 {
			if j := strings.IndexByte(part[i:], '>'); j > 0 {
				part = part[i+1 : i+j]
			}
		}
		if strings.Contains(part, "@") && !strings.ContainsAny(part, " \t") {
			out = append(out, part)
		}
	}
	return out
}

func trimID(v string) string {
	return strings.Trim(strings.TrimSpace(v), "<>")
}
