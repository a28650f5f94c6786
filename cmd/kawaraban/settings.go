package main

import (
	"encoding/json"
	"strings"
)

// settings returns the running configuration for the admin's settings page.
// Secrets never appear: the config holds only the names of environment
// variables and files, and anything that looks like a password is masked.
func (a *app) settings() map[string]any {
	b, err := json.Marshal(a.e.cfg)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	mask(m)
	m["LocalMode"] = a.e.local
	return m
}

func mask(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "password") && !strings.HasSuffix(lk, "env") && !strings.HasSuffix(lk, "file") {
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
