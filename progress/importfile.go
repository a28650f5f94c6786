package progress

import (
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ImportError is one problem in a progress file: the key (as a path such as
// deadlines[1].due) and the line it is on.
type ImportError struct {
	Line int
	Key  string
	Msg  string
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Key, e.Msg)
}

// FileError is a refused progress file with every problem found in it.
// errors.Is(err, ErrInvalidFile) holds for it.
type FileError struct {
	Name     string
	Problems []*ImportError
}

func (e *FileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: refused, nothing imported (%d problems)", e.Name, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n%s: %s", e.Name, p.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidFile) true.
func (e *FileError) Unwrap() error { return ErrInvalidFile }

var slugRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

type contactIn struct {
	bureau, nameJa, nameEn, person, email, cc string
	hasEmail                                  bool
	line                                      int
}

type projectIn struct {
	titleJa, bureau string
	isNew, enhanced *bool
	line            int
}

type measureIn struct {
	number           int
	titleJa, titleEn string
	projects         []projectIn
	line             int
}

type deadlineIn struct {
	key, titleJa string
	due          Date
	bureaus      []string // nil: every bureau with a project
	bureauLines  []int
	line         int
}

// planFile is a parsed, not yet cross-checked, progress file.
type planFile struct {
	contacts  []contactIn
	measures  []measureIn
	deadlines []deadlineIn
	rules     *Rules
	warnings  []string
	problems  []*ImportError
}

func (p *planFile) fail(n *yaml.Node, key, format string, args ...any) {
	p.problems = append(p.problems, &ImportError{Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *planFile) warn(n *yaml.Node, key, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("line %d: %s: %s", n.Line, key, fmt.Sprintf(format, args...)))
}

// parsePlan decodes a progress file into a planFile, collecting problems
// with their lines rather than stopping at the first.
func parsePlan(r io.Reader) (*planFile, error) {
	var doc yaml.Node
	p := &planFile{}
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if err == io.EOF {
			p.problems = append(p.problems, &ImportError{Line: 1, Key: "(file)", Msg: "empty file"})
			return p, nil
		}
		return nil, fmt.Errorf("reading YAML: %w", err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.fail(root, "(file)", "expected a mapping with contacts, measures, deadlines, reminders")
		return p, nil
	}
	eachKey(root, func(k string, kn, v *yaml.Node) {
		switch k {
		case "contacts":
			p.eachItem(v, k, p.contact)
		case "bureaus": // as in seed/plan-chapter5.yaml: names, no addresses
			p.eachItem(v, k, p.bureau)
		case "measures":
			p.eachItem(v, k, p.measure)
		case "deadlines":
			p.eachItem(v, k, p.deadline)
		case "reminders":
			p.reminders(v, k)
		case "centers":
			// The sector centers are lists, not bureaus: not ours.
		default:
			p.warn(kn, k, "unknown key ignored")
		}
	})
	return p, nil
}

func eachKey(m *yaml.Node, fn func(k string, kn, v *yaml.Node)) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		fn(m.Content[i].Value, m.Content[i], deref(m.Content[i+1]))
	}
}

// deref follows YAML aliases (*name) to the anchored node, so a file may
// share a bureau list between deadlines.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func (p *planFile) eachItem(v *yaml.Node, key string, fn func(n *yaml.Node, key string)) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.fail(v, key, "expected a list")
		return
	}
	for i, n := range v.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			p.fail(n, k, "expected a mapping")
			continue
		}
		fn(n, k)
	}
}

func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.Tag == "!!null" }

func (p *planFile) str(v *yaml.Node, key string) string {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		p.fail(v, key, "expected text")
		return ""
	}
	return strings.TrimSpace(v.Value)
}

func (p *planFile) integer(v *yaml.Node, key string) int {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || err != nil {
		p.fail(v, key, "expected a whole number, got %q", v.Value)
	}
	return n
}

func (p *planFile) optBool(v *yaml.Node, key string) *bool {
	if isNull(v) {
		return nil
	}
	var b bool
	if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
		p.fail(v, key, "expected true, false or null, got %q", v.Value)
		return nil
	}
	return &b
}

func (p *planFile) slug(v *yaml.Node, key string) string {
	s := p.str(v, key)
	if s != "" && !slugRE.MatchString(s) {
		p.fail(v, key, "%q is not an id (letters, digits, . _ -; at most 64)", s)
	}
	return s
}

func (p *planFile) required(n *yaml.Node, key string, have map[string]bool, names ...string) {
	for _, name := range names {
		if !have[name] {
			p.fail(n, key+"."+name, "missing")
		}
	}
}

// contact reads an entry of contacts: (bureau, name_ja, email required).
func (p *planFile) contact(n *yaml.Node, key string) {
	p.bureauEntry(n, key, "bureau", "name_ja", "email")
}

// bureau reads an entry of bureaus: in the seed's format (id, name_ja
// required; no address yet).
func (p *planFile) bureau(n *yaml.Node, key string) {
	p.bureauEntry(n, key, "bureau", "name_ja")
}

// bureauEntry reads one bureau with its contact details; "id" and
// "bureau" name the same key, so the two sections share one reader.
func (p *planFile) bureauEntry(n *yaml.Node, key string, required ...string) {
	c := contactIn{line: n.Line}
	have := map[string]bool{}
	eachKey(n, func(k string, kn, v *yaml.Node) {
		have[k] = true
		kk := key + "." + k
		switch k {
		case "bureau", "id":
			c.bureau, have["bureau"] = p.slug(v, kk), true
		case "name_ja":
			c.nameJa = p.str(v, kk)
		case "name_en":
			c.nameEn = p.str(v, kk)
		case "name":
			c.person = p.str(v, kk)
		case "email":
			c.email, c.hasEmail = p.address(v, kk), true
		case "cc":
			c.cc = p.addressList(v, kk)
		default:
			p.warn(kn, kk, "unknown key ignored")
		}
	})
	p.required(n, key, have, required...)
	p.contacts = append(p.contacts, c)
}

func (p *planFile) address(v *yaml.Node, key string) string {
	s := p.str(v, key)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || strings.ContainsAny(s, "<>\r\n") {
		p.fail(v, key, "%q is not an e-mail address", s)
		return ""
	}
	return a.Address
}

func (p *planFile) addressList(v *yaml.Node, key string) string {
	var out []string
	if v.Kind == yaml.SequenceNode {
		for i, e := range v.Content {
			if a := p.address(e, fmt.Sprintf("%s[%d]", key, i)); a != "" {
				out = append(out, a)
			}
		}
	} else if a := p.address(v, key); a != "" {
		out = append(out, a)
	}
	return strings.Join(out, ", ")
}

func (p *planFile) measure(n *yaml.Node, key string) {
	m := measureIn{line: n.Line}
	have := map[string]bool{}
	eachKey(n, func(k string, kn, v *yaml.Node) {
		have[k] = true
		kk := key + "." + k
		switch k {
		case "number":
			if m.number = p.integer(v, kk); m.number <= 0 && v.Kind == yaml.ScalarNode {
				p.fail(v, kk, "must be positive")
			}
		case "title_ja":
			m.titleJa = p.str(v, kk)
		case "title_en":
			m.titleEn = p.str(v, kk)
		case "projects":
			p.eachItem(v, kk, func(pn *yaml.Node, pk string) { m.projects = append(m.projects, p.project(pn, pk)) })
		default:
			p.warn(kn, kk, "unknown key ignored")
		}
	})
	p.required(n, key, have, "number", "title_ja")
	p.measures = append(p.measures, m)
}

func (p *planFile) project(n *yaml.Node, key string) projectIn {
	pr := projectIn{line: n.Line}
	have := map[string]bool{}
	eachKey(n, func(k string, kn, v *yaml.Node) {
		have[k] = true
		kk := key + "." + k
		switch k {
		case "title_ja":
			pr.titleJa = p.str(v, kk)
		case "bureau":
			pr.bureau = p.slug(v, kk)
		case "new":
			pr.isNew = p.optBool(v, kk)
		case "enhanced":
			pr.enhanced = p.optBool(v, kk)
		case "title_en":
		default:
			p.warn(kn, kk, "unknown key ignored")
		}
	})
	p.required(n, key, have, "title_ja", "bureau")
	return pr
}

func (p *planFile) deadline(n *yaml.Node, key string) {
	d := deadlineIn{line: n.Line}
	have := map[string]bool{}
	eachKey(n, func(k string, kn, v *yaml.Node) {
		have[k] = true
		kk := key + "." + k
		switch k {
		case "id":
			d.key = p.slug(v, kk)
		case "title_ja":
			d.titleJa = p.str(v, kk)
		case "due":
			s := p.str(v, kk)
			due, err := ParseDate(s)
			if err != nil && s != "" {
				p.fail(v, kk, "%v", err)
			}
			d.due = due
		case "bureaus":
			if isNull(v) {
				return
			}
			if v.Kind != yaml.SequenceNode {
				p.fail(v, kk, "expected a list of bureau ids")
				return
			}
			d.bureaus = []string{}
			for i, b := range v.Content {
				b = deref(b)
				d.bureaus = append(d.bureaus, p.slug(b, fmt.Sprintf("%s[%d]", kk, i)))
				d.bureauLines = append(d.bureauLines, b.Line)
			}
		default:
			p.warn(kn, kk, "unknown key ignored")
		}
	})
	p.required(n, key, have, "id", "title_ja", "due")
	p.deadlines = append(p.deadlines, d)
}

func (p *planFile) reminders(n *yaml.Node, key string) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, key, "expected a mapping")
		return
	}
	r := DefaultRules
	eachKey(n, func(k string, kn, v *yaml.Node) {
		kk := key + "." + k
		switch k {
		case "before_days":
			if v.Kind != yaml.SequenceNode {
				p.fail(v, kk, "expected a list of day counts")
				return
			}
			r.BeforeDays = []int{}
			for i, e := range v.Content {
				e = deref(e)
				ek := fmt.Sprintf("%s[%d]", kk, i)
				if d := p.integer(e, ek); d < 0 || d > 366 {
					p.fail(e, ek, "must be between 0 and 366")
				} else {
					r.BeforeDays = append(r.BeforeDays, d)
				}
			}
		case "overdue_every_days":
			if r.OverdueEveryDays = p.integer(v, kk); r.OverdueEveryDays < 0 {
				p.fail(v, kk, "must not be negative")
			}
		case "escalate_after_days":
			if r.EscalateAfterDays = p.integer(v, kk); r.EscalateAfterDays < 0 {
				p.fail(v, kk, "must not be negative")
			}
		case "coordinator":
			r.Coordinator = p.address(v, kk)
		default:
			p.warn(kn, kk, "unknown key ignored")
		}
	})
	if r.Coordinator == "" && r.EscalateAfterDays > 0 {
		p.warn(n, key+".coordinator", "missing: no escalations and no digest will be sent")
	}
	p.rules = &r
}
