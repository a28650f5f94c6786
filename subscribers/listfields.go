package subscribers

import (
	"slices"
	"strconv"
	"strings"
)

// listField is one editable field of a list, named by its config key (the
// same name the API and the ui_fields column use).
type listField struct {
	key string
	// get is the field's value as text, to compare and to show.
	get func(List) string
	// copy sets the field of dst from src.
	copy func(dst *List, src List)
}

// configFields are the fields a config file sets, in the order of
// config.example.yaml. The precedence rule of SyncLists works field by
// field over these.
var configFields = []listField{
	{"name_ja", func(l List) string { return l.NameJA }, func(d *List, s List) { d.NameJA = s.NameJA }},
	{"name_en", func(l List) string { return l.NameEN }, func(d *List, s List) { d.NameEN = s.NameEN }},
	{"description_ja", func(l List) string { return l.DescriptionJA }, func(d *List, s List) { d.DescriptionJA = s.DescriptionJA }},
	{"description_en", func(l List) string { return l.DescriptionEN }, func(d *List, s List) { d.DescriptionEN = s.DescriptionEN }},
	{"kind", func(l List) string { return l.Kind }, func(d *List, s List) { d.Kind = s.Kind }},
	{"from_address", func(l List) string { return l.FromAddress }, func(d *List, s List) { d.FromAddress = s.FromAddress }},
	{"from_name", func(l List) string { return l.FromName }, func(d *List, s List) { d.FromName = s.FromName }},
	{"postal_address", func(l List) string { return l.PostalAddress }, func(d *List, s List) { d.PostalAddress = s.PostalAddress }},
	{"contact", func(l List) string { return l.Contact }, func(d *List, s List) { d.Contact = s.Contact }},
	{"double_opt_in", func(l List) string { return strconv.FormatBool(l.DoubleOptIn) }, func(d *List, s List) { d.DoubleOptIn = s.DoubleOptIn }},
	{"allowed_domains", func(l List) string { return strings.Join(l.AllowedDomains, ",") },
		func(d *List, s List) { d.AllowedDomains = slices.Clone(s.AllowedDomains) }},
	{"encoding", func(l List) string { return l.Encoding }, func(d *List, s List) { d.Encoding = s.Encoding }},
	{"name_fallback", func(l List) string { return l.NameFallback }, func(d *List, s List) { d.NameFallback = s.NameFallback }},
	{"require_approval", func(l List) string { return strconv.FormatBool(l.RequireApproval) },
		func(d *List, s List) { d.RequireApproval = s.RequireApproval }},
	{"count_clicks", func(l List) string { return strconv.FormatBool(l.CountClicks) },
		func(d *List, s List) { d.CountClicks = s.CountClicks }},
}

// archiveField is edited in the UI and the API only; no config key sets it.
var archiveField = listField{"archive", func(l List) string { return strconv.FormatBool(!l.ArchiveOff) },
	func(d *List, s List) { d.ArchiveOff = s.ArchiveOff }}

// editFields are the fields an edit may change: the config's and archive.
var editFields = append(slices.Clone(configFields), archiveField)

// ListFieldKeys returns the names of the fields an admin may edit, in
// form order.
func ListFieldKeys() []string {
	out := make([]string, 0, len(editFields))
	for _, f := range editFields {
		out = append(out, f.key)
	}
	return out
}

// EditedInUI reports whether field (a config key name) of l was edited in
// the admin UI or the API, so that the configuration no longer sets it.
func (l List) EditedInUI(field string) bool { return slices.Contains(l.UIFields, field) }

// changedFields returns the keys of the edit fields whose values differ.
func changedFields(a, b List) []string {
	var out []string
	for _, f := range editFields {
		if f.get(a) != f.get(b) {
			out = append(out, f.key)
		}
	}
	return out
}

// owned adds keys to the UI-owned set, keeping the form order.
func owned(have, add []string) []string {
	var out []string
	for _, f := range editFields {
		if slices.Contains(have, f.key) || slices.Contains(add, f.key) {
			out = append(out, f.key)
		}
	}
	return out
}
