package mailer

import (
	"fmt"
	"strings"
)

// splitAddress splits a bare address at its last "@" and checks the parts
// loosely: the Japanese carriers issued local parts that RFC 5322 forbids
// unquoted (a..b, trailing dot), and these people still receive mail.
func splitAddress(addr string) (local, domain string, err error) {
	if strings.ContainsAny(addr, "\r\n\x00<> \t") {
		return "", "", fmt.Errorf("%w: %q", ErrBadAddress, addr)
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", fmt.Errorf("%w: %q has no local part or domain", ErrBadAddress, addr)
	}
	local, domain = addr[:at], addr[at+1:]
	if len(local) > 64 || len(domain) > 253 {
		return "", "", fmt.Errorf("%w: %q too long", ErrBadAddress, addr)
	}
	if !validDomain(domain) {
		return "", "", fmt.Errorf("%w: %q has a bad domain", ErrBadAddress, addr)
	}
	if strings.HasPrefix(local, `"`) {
		// Already quoted: a plain quoted-string, no escapes (RFC 5321 §4.1.2).
		in := strings.TrimSuffix(local[1:], `"`)
		if len(in) != len(local)-2 || in == "" || strings.ContainsAny(in, `"\`) {
			return "", "", fmt.Errorf("%w: %q has a bad quoted local part", ErrBadAddress, addr)
		}
		return local, domain, nil
	}
	for _, r := range local {
		if r < 0x21 || r == '"' || r == '\\' || r == '(' || r == ')' || r == ',' || r == ':' || r == ';' || r == '@' || r == '[' || r == ']' {
			return "", "", fmt.Errorf("%w: %q has %q in its local part", ErrBadAddress, addr, r)
		}
	}
	return local, domain, nil
}

// validDomain checks dot-separated labels of letters, digits and hyphens
// (RFC 5321 §4.1.2 Domain); labels of a UTF-8 domain (RFC 6531) may hold
// any non-ASCII letters.
func validDomain(d string) bool {
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			ok := r >= 0x80 || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// SMTPAddress returns addr as it must appear inside RCPT TO:<…> and in the
// To: header: unchanged when the local part is a dot-atom, quoted (RFC 5321
// §4.1.2 Quoted-string) when it is not, as with legacy carrier addresses such
// as user..name.@docomo.ne.jp → "user..name."@docomo.ne.jp.
func SMTPAddress(addr string) (string, error) {
	local, domain, err := splitAddress(addr)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(local, `"`) || isDotAtom(local) {
		return local + "@" + domain, nil
	}
	return `"` + local + `"@` + domain, nil
}

// Domain returns the lower-cased domain of addr, used for per-domain limits.
func Domain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(addr[at+1:])
}

// isDotAtom reports whether s is an RFC 5322 §3.2.3 dot-atom-text.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r == '.' || r >= 0x80 {
			continue
		}
		if !isAtext(byte(r)) {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
