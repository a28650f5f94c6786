package config

import (
	"reflect"
	"strings"
	"time"
)

// Settings returns the running configuration for the admin's settings page,
// keyed as config.yaml names its keys (smtp.port, sending.max_retry_age),
// with durations as time.Duration so that the page can say 48時間 rather
// than a count of nanoseconds. Secrets never appear: the config holds only
// the names of environment variables and files, and anything that looks
// like a password is masked. local_mode says whether c is local mode's.
func (c *Config) Settings() map[string]any {
	m, _ := settingsValue(reflect.ValueOf(*c)).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	mask(m)
	m["local_mode"] = c.IsLocal()
	return m
}

var durationType = reflect.TypeOf(Duration(0))

// settingsValue turns a config value into maps keyed by the yaml tags,
// slices and plain values.
func settingsValue(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return settingsValue(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			m[name] = settingsValue(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = settingsValue(v.Index(i))
		}
		return out
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = settingsValue(v.MapIndex(k))
		}
		return m
	}
	return v.Interface()
}

// secretKey says whether a config key holds a secret itself rather than
// the name of the variable or file that holds it.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file") {
		return false
	}
	for _, w := range []string{"password", "secret", "key", "token"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// mask replaces every secret value in v (nested maps and slices) with
// asterisks; the web page shows them as they come.
func mask(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if _, section := x.(map[string]any); secretKey(k) && !section && x != nil && x != "" {
				t[k] = "********"
				continue
			}
			mask(x)
		}
	case []any:
		for _, x := range t {
			mask(x)
		}
	}
}
