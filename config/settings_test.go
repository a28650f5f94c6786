package config

import (
	"testing"
	"time"
)

// TestSettingsKeepsTypes: the settings page gets config.yaml's keys and
// durations as durations, not nanosecond counts (issue 21).
func TestSettingsKeepsTypes(t *testing.T) {
	t.Parallel()
	cfg := Local(t.TempDir(), "")
	cfg.SMTP.PasswordEnv = "SMTP_PASSWORD"
	m := cfg.Settings()
	sending, _ := m["sending"].(map[string]any)
	if d, ok := sending["max_retry_age"].(time.Duration); !ok || d != 48*time.Hour {
		t.Errorf("sending.max_retry_age = %#v, want 48h", sending["max_retry_age"])
	}
	http, _ := m["http"].(map[string]any)
	if n, ok := http["max_body_bytes"].(int64); !ok || n <= 0 {
		t.Errorf("http.max_body_bytes = %#v", http["max_body_bytes"])
	}
	lists, _ := m["lists"].([]any)
	if len(lists) != len(cfg.Lists) {
		t.Fatalf("lists = %#v", m["lists"])
	}
	if l, _ := lists[0].(map[string]any); l["slug"] != "shimin-katsudo" {
		t.Errorf("first list %#v", lists[0])
	}
	if smtp, _ := m["smtp"].(map[string]any); smtp["password_env"] != "SMTP_PASSWORD" {
		t.Errorf("smtp.password_env = %#v (the variable's name is no secret)", smtp["password_env"])
	}
}

// TestSettingsMasksSecrets: a key that holds a secret itself is masked
// wherever it sits; the names of variables and files are not.
func TestSettingsMasksSecrets(t *testing.T) {
	t.Parallel()
	m := map[string]any{
		"smtp":   map[string]any{"password": "hunter2", "password_env": "SMTP_PASSWORD", "password_file": "/run/x", "host": "relay"},
		"relays": []any{map[string]any{"password": "s3cret", "username": "u"}},
		"http":   map[string]any{"metrics_token": "tok", "metrics_token_file": ""},
		"dkim":   map[string]any{"key": "PEM", "key_file": "/etc/k"},
		"empty":  map[string]any{"password": ""},
	}
	mask(m)
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"smtp", "password"}, "********"},
		{[]string{"smtp", "password_env"}, "SMTP_PASSWORD"},
		{[]string{"smtp", "password_file"}, "/run/x"},
		{[]string{"smtp", "host"}, "relay"},
		{[]string{"http", "metrics_token"}, "********"},
		{[]string{"dkim", "key"}, "********"},
		{[]string{"dkim", "key_file"}, "/etc/k"},
		{[]string{"empty", "password"}, ""},
	} {
		if got := m[c.path[0]].(map[string]any)[c.path[1]]; got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
	if got := m["relays"].([]any)[0].(map[string]any)["password"]; got != "********" {
		t.Errorf("relays[0].password = %v", got)
	}
}
