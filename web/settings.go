package web

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The settings page shows the running configuration as an operator reads
// it: one section per part of config.yaml, keys as they are written there,
// durations in hours or days (48時間), sizes in MiB, the lists as a table
// and every secret masked.

type setting struct {
	Key   string
	Value string
	// Code: the value is as configured (a host, a path, an address) and
	// shown as code; otherwise it is words (48時間, はい).
	Code bool
}

// settingsTable is a list of like things (lists, relays) as a table.
type settingsTable struct {
	Key     string
	Columns []string
	Rows    [][]setting
}

// settingsSection is one top-level key of the config.
type settingsSection struct {
	Key    string
	Title  string
	Rows   []setting
	Tables []settingsTable
}

// settingsSections arranges the config: scalars at the top level go into a
// first, general section.
func (v *view) settingsSections(cfg map[string]any) []settingsSection {
	general := settingsSection{Key: "general", Title: v.T("settings.general")}
	var out []settingsSection
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch x := cfg[k].(type) {
		case map[string]any:
			sec := settingsSection{Key: k, Title: v.word("settings.section.", k)}
			v.flatten(k, x, &sec)
			out = append(out, sec)
		case []any:
			if t, ok := v.table(k, x); ok {
				out = append(out, settingsSection{Key: k, Title: v.word("settings.section.", k), Tables: []settingsTable{t}})
				continue
			}
			general.Rows = append(general.Rows, v.setting(k, k, x))
		default:
			general.Rows = append(general.Rows, v.setting(k, k, x))
		}
	}
	if len(general.Rows) > 0 {
		out = append([]settingsSection{general}, out...)
	}
	return out
}

func (v *view) flatten(prefix string, m map[string]any, sec *settingsSection) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := prefix + "." + k
		switch x := m[k].(type) {
		case map[string]any:
			v.flatten(key, x, sec)
		case []any:
			if t, ok := v.table(key, x); ok {
				sec.Tables = append(sec.Tables, t)
				continue
			}
			sec.Rows = append(sec.Rows, v.setting(key, k, x))
		default:
			sec.Rows = append(sec.Rows, v.setting(key, k, x))
		}
	}
}

// tableFirst are the columns a list or relay table starts with.
var tableFirst = []string{"slug", "name_ja", "name_en", "kind", "host", "port", "from_address", "from_name", "encoding"}

// table lays out a slice of maps (lists, relays) as a table; ok is false
// for a slice of plain values.
func (v *view) table(key string, items []any) (settingsTable, bool) {
	if len(items) == 0 {
		return settingsTable{}, false
	}
	cols := map[string]bool{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return settingsTable{}, false
		}
		for k := range m {
			cols[k] = true
		}
	}
	t := settingsTable{Key: key}
	for _, c := range tableFirst {
		if cols[c] {
			t.Columns = append(t.Columns, c)
		}
	}
	var rest []string
	for c := range cols {
		if !slices.Contains(tableFirst, c) {
			rest = append(rest, c)
		}
	}
	sort.Strings(rest)
	t.Columns = append(t.Columns, rest...)
	for _, it := range items {
		m := it.(map[string]any)
		row := make([]setting, len(t.Columns))
		for i, c := range t.Columns {
			row[i] = v.setting(c, c, m[c])
		}
		t.Rows = append(t.Rows, row)
	}
	return t, true
}

// setting is one row: the full key, its value in words or as code.
func (v *view) setting(full, key string, x any) setting {
	st := setting{Key: full, Value: v.settingValue(key, x)}
	switch t := x.(type) {
	case string:
		st.Code = t != "" && st.Value != "********"
	case []any:
		st.Code = len(t) > 0
	}
	return st
}

// settingValue formats one value for the key it belongs to.
func (v *view) settingValue(key string, x any) string {
	switch t := x.(type) {
	case nil:
		return v.T("settings.default")
	case string:
		if t == "" {
			return "—"
		}
		return t
	case bool:
		return v.word("bool.", strconv.FormatBool(t))
	case time.Duration:
		return v.Duration(t)
	case float64:
		if strings.Contains(key, "bytes") {
			return bytesSize(int64(t))
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int, int64, int32, uint, uint64, uint32:
		n, _ := strconv.ParseInt(fmt.Sprint(t), 10, 64)
		if strings.Contains(key, "bytes") {
			return bytesSize(n)
		}
		return strconv.FormatInt(n, 10)
	case []any:
		parts := make([]string, len(t))
		for i, p := range t {
			parts[i] = v.settingValue(key, p)
		}
		if len(parts) == 0 {
			return "—"
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(x)
}

// Duration says d as an operator reads it: 48時間, 30日, 2秒 (or 48
// hours, 30 days, 2 seconds).
func (v *view) Duration(d time.Duration) string {
	unit := func(n int64, u string) string { return fmt.Sprintf(v.T("unit."+u), n) }
	switch {
	case d == 0:
		return unit(0, "s")
	case d%(24*time.Hour) == 0 && d >= 72*time.Hour:
		return unit(int64(d/(24*time.Hour)), "d")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "h")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "m")
	case d%time.Second == 0:
		return unit(int64(d/time.Second), "s")
	}
	return unit(int64(d/time.Millisecond), "ms")
}

// bytesSize writes a size in the largest binary unit that divides it (1 MiB,
// 256 KiB), else in bytes.
func bytesSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	var secs []settingsSection
	if s.opt.Settings != nil {
		secs = v.settingsSections(s.opt.Settings())
	}
	v.Nav, v.Title, v.Data = "settings", v.T("nav.settings"), secs
	s.render(w, r, http.StatusOK, "settings", v)
}
