package bounces

import (
	"strings"

	"kawaraban/token"
)

// PurposeSystemReturn is the token purpose of SystemReturnPath's tag.
const PurposeSystemReturn = "return-system"

const systemPrefix = "bounces+s-"

// SystemReturnPath returns the envelope sender for kawaraban's own mail to
// rcpt (confirmations, reminders, test sends), which has no delivery and so
// no VERP token: bounces+s-TAG@domain, where TAG signs the recipient. A
// bounce to it that names rcpt is tied to mail we sent rcpt, so the policy
// acts on it (a mistyped address stops getting confirmation mail); one
// naming anyone else stays unverified.
func SystemReturnPath(signer *token.Signer, domain, rcpt string) string {
	return systemPrefix + signer.Tag(PurposeSystemReturn, []byte(strings.ToLower(strings.TrimSpace(rcpt)))) + "@" + domain
}

// systemReturn reports whether addr is a SystemReturnPath for rcpt.
func systemReturn(signer *token.Signer, addr, rcpt string) bool {
	if signer == nil || rcpt == "" {
		return false
	}
	local, _, ok := splitAddr(addr)
	if !ok || len(local) <= len(systemPrefix) || !strings.EqualFold(local[:len(systemPrefix)], systemPrefix) {
		return false
	}
	return signer.CheckTag(PurposeSystemReturn, []byte(strings.ToLower(strings.TrimSpace(rcpt))), local[len(systemPrefix):])
}
