package subscribers

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Codes of a list field's problem (ListProblem.Code); web words them.
const (
	ProblemRequired  = "required"   // empty
	ProblemOneLine   = "one-line"   // contains a line break or a control character
	ProblemTooLong   = "too-long"   // more characters than the field takes
	ProblemSlug      = "slug"       // not lower-case letters, digits and hyphens
	ProblemTaken     = "taken"      // a list with this slug exists
	ProblemChoice    = "choice"     // not one of the allowed values (kind, encoding)
	ProblemAddress   = "address"    // not an e-mail address
	ProblemDomain    = "domain"     // an allowed domain that is not a domain name
	ProblemReachable = "reachable"  // the contact names no e-mail address, URL or telephone number
	ProblemNotConfig = "not-config" // not a field the config file sets (ReleaseListFields)
)

// ListProblem is one field of a list definition that cannot be saved.
type ListProblem struct {
	Field string // the config key name, e.g. postal_address
	Code  string // Problem*
	Max   int    // the limit, for ProblemTooLong
}

// ListError is a list definition refused by CreateList or UpdateList,
// with every problem at once. It wraps ErrBadList.
type ListError struct {
	Slug     string
	Problems []ListProblem
}

func (e *ListError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+problemText(p))
	}
	return fmt.Sprintf("list %q: %s", e.Slug, strings.Join(parts, "; "))
}

// Unwrap makes errors.Is(err, ErrBadList) true.
func (e *ListError) Unwrap() error { return ErrBadList }

// Has reports whether field has a problem.
func (e *ListError) Has(field string) bool {
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

func problemText(p ListProblem) string {
	switch p.Code {
	case ProblemRequired:
		if p.Field == "postal_address" || p.Field == "contact" || p.Field == "from_name" {
			return "is required (shown in every mail; 特定電子メール法)"
		}
		return "is required"
	case ProblemOneLine:
		return "must be one line without control characters"
	case ProblemTooLong:
		return fmt.Sprintf("is longer than %d characters", p.Max)
	case ProblemSlug:
		return "must be lower-case letters, digits and hyphens (up to 63)"
	case ProblemTaken:
		return "a list with this slug exists"
	case ProblemChoice:
		return "is not one of the allowed values"
	case ProblemAddress:
		return "must be an e-mail address"
	case ProblemDomain:
		return "must be domain names"
	case ProblemNotConfig:
		return "is not a field the config file sets"
	case ProblemReachable:
		return "must include an e-mail address, a URL or a telephone number (特定電子メール法)"
	}
	return p.Code
}

// The most characters each text field takes.
const (
	maxName        = 100
	maxDescription = 2000
	maxPostal      = 200
	maxContact     = 200
	maxFallback    = 30
)

var (
	contactMailRE  = regexp.MustCompile(`[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	contactURLRE   = regexp.MustCompile(`https?://\S+`)
	contactPhoneRE = regexp.MustCompile(`\+?[0-9][0-9()\- ]{8,}[0-9]`)
)

// reachable reports whether a contact names a way to reach the sender:
// the law asks for a telephone number, e-mail address or URL.
func reachable(s string) bool {
	if contactMailRE.MatchString(s) || contactURLRE.MatchString(s) {
		return true
	}
	for _, m := range contactPhoneRE.FindAllString(s, -1) {
		if len(strings.Map(keepDigits, m)) >= 10 {
			return true
		}
	}
	return false
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// checkList normalises an edited list definition and checks every field,
// strictly: the admin UI and the API use it (a config file is checked by
// the config loader, then normaliseList). It returns the normalised list
// or a *ListError.
func checkList(l List) (List, error) {
	e := &ListError{Slug: l.Slug}
	bad := func(field, code string) { e.Problems = append(e.Problems, ListProblem{Field: field, Code: code}) }
	text := func(field string, v *string, required, multiline bool, max int) {
		*v = strings.TrimSpace(*v)
		switch {
		case *v == "" && required:
			bad(field, ProblemRequired)
		case !clean(*v, multiline):
			bad(field, ProblemOneLine)
		case utf8.RuneCountInString(*v) > max:
			e.Problems = append(e.Problems, ListProblem{Field: field, Code: ProblemTooLong, Max: max})
		}
	}
	if !slugRE.MatchString(l.Slug) {
		bad("slug", ProblemSlug)
	}
	text("name_ja", &l.NameJA, true, false, maxName)
	text("name_en", &l.NameEN, true, false, maxName)
	text("description_ja", &l.DescriptionJA, false, true, maxDescription)
	text("description_en", &l.DescriptionEN, false, true, maxDescription)
	if l.Kind != KindPublic && l.Kind != KindInternal {
		bad("kind", ProblemChoice)
	}
	if a, err := ParseAddress(strings.TrimSpace(l.FromAddress)); err != nil {
		bad("from_address", ProblemAddress)
	} else {
		l.FromAddress = a.String()
	}
	text("from_name", &l.FromName, true, false, maxName)
	text("postal_address", &l.PostalAddress, true, true, maxPostal)
	text("contact", &l.Contact, true, true, maxContact)
	if l.Contact != "" && !e.Has("contact") && !reachable(l.Contact) {
		bad("contact", ProblemReachable)
	}
	l.Encoding = strings.ToLower(strings.TrimSpace(l.Encoding))
	if l.Encoding != EncodingUTF8 && l.Encoding != EncodingISO2022JP {
		bad("encoding", ProblemChoice)
	}
	text("name_fallback", &l.NameFallback, false, false, maxFallback)
	l.AllowedDomains = checkDomains(l.AllowedDomains, bad)
	if len(e.Problems) > 0 {
		return l, e
	}
	return l, nil
}

// checkDomains normalises allowed domains (IDNA, lower case), dropping
// blanks and repeats.
func checkDomains(in []string, bad func(field, code string)) []string {
	var out []string
	for _, d := range in {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		a, err := idna.Lookup.ToASCII(strings.ToLower(d))
		if err != nil || a == "" || !strings.Contains(a, ".") {
			bad("allowed_domains", ProblemDomain)
			return nil
		}
		if !strings.Contains(","+strings.Join(out, ",")+",", ","+a+",") {
			out = append(out, a)
		}
	}
	return out
}

// clean reports whether s has no control characters (line breaks allowed
// when multiline).
func clean(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
