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
