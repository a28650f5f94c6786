package subscribers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Limits on an address, from RFC 5321 §4.5.3.1 (local part 64 octets) and
// RFC 5321 §4.1.2 with the path limit (254 octets for the whole address).
const (
	maxAddressLen = 254
	maxLocalLen   = 64
)

// Address is a normalised e-mail address. Local is the local part exactly
// as given (case kept, quotes removed); Domain is lower-case ASCII, with an
// internationalised domain converted to punycode.
type Address struct {
	Local, Domain string
}

// AddressError says why a string is not an acceptable address, in plain
// words, in English (Message) and Japanese (MessageJA) for the form.
type AddressError struct {
	// Code is a stable short name for the problem, e.g. "multiple-at".
	Code string
	// Message explains the problem in English.
	Message string
	// MessageJA explains the problem in Japanese.
	MessageJA string
}

// Error returns the English message. It never contains the address itself,
// so it is safe to log.
func (e *AddressError) Error() string { return "invalid address: " + e.Message }

func addrErr(code, en, ja string) *AddressError {
	return &AddressError{Code: code, Message: en, MessageJA: ja}
}

// ParseAddress checks and normalises raw: it trims surrounding space,
// applies Unicode NFC, lower-cases the domain and converts an
// internationalised domain to punycode. It accepts the legacy local parts
// Japanese carriers handed out (consecutive dots, a dot at the start or end,
// as in user..name.@docomo.ne.jp), which SMTP() then quotes. It refuses CR
// or LF anywhere, more than one @ outside a quoted local part, an empty
// local part or domain, spaces, and addresses over 254 octets, with an
// *AddressError that says which.
func ParseAddress(raw string) (Address, error) {
	if strings.ContainsAny(raw, "\r\n") {
		return Address{}, addrErr("line-break", "the address contains a line break", "メールアドレスに改行が含まれています")
	}
	if !utf8.ValidString(raw) {
		return Address{}, addrErr("encoding", "the address contains invalid characters", "メールアドレスに使えない文字が含まれています")
	}
	s := norm.NFC.String(strings.TrimSpace(raw))
	if s == "" {
		return Address{}, addrErr("empty", "the address is empty", "メールアドレスが入力されていません")
	}
	if len(s) > maxAddressLen*4 { // cheap guard before any further work
		return Address{}, errTooLong()
	}
	local, domain, err := splitAddress(s)
	if err != nil {
		return Address{}, err
	}
	d, err := normaliseDomain(domain)
	if err != nil {
		return Address{}, err
	}
	if len(local) > maxLocalLen {
		return Address{}, addrErr("local-too-long", "the part before @ is longer than 64 characters", "@より前の部分が長すぎます（64文字まで）")
	}
	a := Address{Local: local, Domain: d}
	if len(a.SMTP()) > maxAddressLen {
		return Address{}, errTooLong()
	}
	return a, nil
}

func errTooLong() *AddressError {
	return addrErr("too-long", "the address is longer than 254 characters", "メールアドレスが長すぎます（254文字まで）")
}

// splitAddress separates the local part (unquoted) from the domain.
func splitAddress(s string) (local, domain string, err error) {
	if strings.HasPrefix(s, `"`) {
		local, rest, err := parseQuoted(s)
		if err != nil {
			return "", "", err
		}
		if !strings.HasPrefix(rest, "@") {
			return "", "", addrErr("no-at", "the address has no @ after the quoted part", "引用符の後に@がありません")
		}
		return local, rest[1:], checkDomainChars(rest[1:])
	}
	switch n := strings.Count(s, "@") + strings.Count(s, "＠"); {
	case n == 0:
		return "", "", addrErr("no-at", "the address has no @", "メールアドレスに@がありません")
	case strings.Contains(s, "＠"):
		return "", "", addrErr("fullwidth-at", "the address uses a full-width ＠; use the half-width @", "全角の「＠」が使われています。半角の「@」を使ってください")
	case n > 1:
		return "", "", addrErr("multiple-at", "the address has more than one @", "メールアドレスに@が2つ以上あります")
	}
	local, domain, _ = strings.Cut(s, "@")
	if local == "" {
		return "", "", addrErr("empty-local", "nothing comes before the @", "@より前の部分がありません")
	}
	for _, r := range local {
		if err := checkLocalRune(r); err != nil {
			return "", "", err
		}
	}
	return local, domain, checkDomainChars(domain)
}

// parseQuoted reads an RFC 5321 §4.1.2 Quoted-string at the start of s and
// returns its content without quotes and escapes, and what follows it.
func parseQuoted(s string) (content, rest string, err error) {
	var b strings.Builder
	escaped := false
	for i, r := range s[1:] {
		switch {
		case escaped:
			if r < 0x20 || r > 0x7e {
				return "", "", addrErr("bad-quoted", "the quoted part has an invalid escape", "引用符の中の「\\」の使い方が正しくありません")
			}
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			if b.Len() == 0 {
				return "", "", addrErr("empty-local", "nothing comes before the @", "@より前の部分がありません")
			}
			return b.String(), s[1+i+1:], nil
		case r == ' ':
			b.WriteRune(r)
		default:
			if err := checkQuotedRune(r); err != nil {
				return "", "", err
			}
			b.WriteRune(r)
		}
	}
	return "", "", addrErr("bad-quoted", "the quotation mark is not closed", "引用符（\"）が閉じられていません")
}

// checkLocalRune refuses spaces, control characters and the characters
// that have a meaning in addresses, outside quotes.
func checkLocalRune(r rune) error {
	switch {
	case r == '　' || unicode.IsSpace(r):
		return addrErr("space", "the address contains a space", "メールアドレスに空白（スペース）が含まれています")
	case r < 0x20 || r == 0x7f || unicode.IsControl(r) || r == utf8.RuneError:
		return addrErr("control", "the address contains a control character", "メールアドレスに使えない文字が含まれています")
	case r >= 0xff01 && r <= 0xff5e:
		return addrErr("fullwidth", "the part before @ contains full-width characters; type it in half-width", "@より前の部分に全角文字が含まれています。半角で入力してください")
	case r == '"' || r == '\\':
		return addrErr("bad-char", "the part before @ contains a quotation mark or backslash", "@より前の部分に「\"」または「\\」が含まれています")
	case r == '(' || r == ')' || r == '<' || r == '>' || r == ',' || r == ';' || r == ':' || r == '[' || r == ']' || r == '@':
		return addrErr("bad-char", "the part before @ contains a character that is not allowed ("+string(r)+")", "@より前の部分に使えない文字（"+string(r)+"）が含まれています")
	}
	return nil
}

// checkQuotedRune refuses, inside quotes, what is never part of an
// address: spaces other than ASCII space, and control characters.
func checkQuotedRune(r rune) error {
	switch {
	case r == '　' || unicode.IsSpace(r):
		return addrErr("space", "the address contains a space", "メールアドレスに空白（スペース）が含まれています")
	case r < 0x20 || r == 0x7f || unicode.IsControl(r) || r == utf8.RuneError:
		return addrErr("control", "the address contains a control character", "メールアドレスに使えない文字が含まれています")
	}
	return nil
}

func checkDomainChars(d string) error {
	for _, r := range d {
		if r == '　' || unicode.IsSpace(r) {
			return addrErr("space", "the address contains a space", "メールアドレスに空白（スペース）が含まれています")
		}
	}
	return nil
}

// normaliseDomain lower-cases d and converts it to ASCII (IDNA, UTS #46),
// then checks the DNS label rules.
func normaliseDomain(d string) (string, error) {
	bad := func() error {
		return addrErr("bad-domain", "the part after @ is not a valid domain name", "@より後ろ（ドメイン）が正しくありません")
	}
	if d == "" {
		return "", addrErr("no-domain", "nothing comes after the @", "@より後ろ（ドメイン）がありません")
	}
	a, err := idna.Lookup.ToASCII(strings.ToLower(d))
	if err != nil {
		return "", bad()
	}
	// Converting must be idempotent so that String() re-parses to itself.
	if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
		return "", bad()
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", addrErr("no-dot", "the domain after @ has no dot (e.g. example.jp)", "@より後ろ（ドメイン）に「.」がありません（例: example.jp）")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad()
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad()
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", bad()
	}
	return a, nil
}

// String returns the address as shown and as used for lookups: the local
// part as given (quoted only when it could not be read back otherwise) and
// the normalised domain. ParseAddress(a.String()) returns a.
func (a Address) String() string {
	if a.Local == "" && a.Domain == "" {
		return ""
	}
	if looseAtom(a.Local) {
		return a.Local + "@" + a.Domain
	}
	return quote(a.Local) + "@" + a.Domain
}

// SMTP returns the address for the SMTP envelope and the To header: the
// local part is quoted when it is not a dot-atom (RFC 5321 §4.1.2), which is
// how the carriers' legacy addresses such as "user..name."@docomo.ne.jp
// must be written.
func (a Address) SMTP() string {
	if dotAtom(a.Local) {
		return a.Local + "@" + a.Domain
	}
	return quote(a.Local) + "@" + a.Domain
}

// looseAtom reports whether local can be written unquoted in our lenient
// syntax: atext and dots anywhere.
func looseAtom(local string) bool {
	if local == "" {
		return false
	}
	for _, r := range local {
		if checkLocalRune(r) != nil {
			return false
		}
	}
	return true
}

// dotAtom reports whether local is an RFC 5321 Dot-string: atoms separated
// by single dots, no leading or trailing dot.
func dotAtom(local string) bool {
	if !looseAtom(local) || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	return true
}

func quote(local string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// MaskEmail hides most of an address's local part for pages that a
// forwarded link may show to someone else: "hanako@example.jp" becomes
// "h*****@example.jp".
func MaskEmail(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i <= 0 {
		return strings.Repeat("*", utf8.RuneCountInString(email))
	}
	local := []rune(strings.Trim(email[:i], `"`))
	if len(local) == 0 {
		return "*" + email[i:]
	}
	return string(local[0]) + strings.Repeat("*", max(len(local)-1, 3)) + email[i:]
}
