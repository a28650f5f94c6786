package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAcceptanceRecurringScheduleAPI adds, lists, pauses and removes a
// recurring issue schedule through the running daemon's API.
func TestAcceptanceRecurringScheduleAPI(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	defer d.stop(t)
	token := adminToken(t, d.Data)

	for _, bad := range []map[string]any{
		{"list": "shimin-katsudo", "spec": "0 10 *"},
		{"list": "shimin-katsudo", "spec": "0 10 1-7 * 1", "tz": "Mars/Olympus"},
	} {
		code, body := api(t, d, token, "POST", "/api/v1/schedules", bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"error"`) {
			t.Errorf("POST /schedules %v: %d %s, want 422 with the reason", bad, code, body)
		}
	}
	code, body := api(t, d, token, "POST", "/api/v1/schedules", map[string]any{"list": "shimin-katsudo", "spec": "0 10 1-7 * 1"})
	var st struct {
		ID      int64     `json:"id"`
		List    string    `json:"list"`
		TZ      string    `json:"tz"`
		Paused  bool      `json:"paused"`
		NextRun time.Time `json:"next_run"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &st) != nil {
		t.Fatalf("POST /schedules: %d %s", code, body)
	}
	jst := time.FixedZone("JST", 9*3600)
	if next := st.NextRun.In(jst); st.List != "shimin-katsudo" || st.TZ != "Asia/Tokyo" ||
		next.Weekday() != time.Monday || next.Day() > 7 || next.Hour() != 10 || next.Minute() != 0 {
		t.Errorf("added %+v (next run %v), want the first Monday 10:00 JST", st, st.NextRun.In(jst))
	}
	id := strconv.FormatInt(st.ID, 10)
	if code, body := api(t, d, token, "GET", "/api/v1/schedules", nil); code != 200 || !strings.Contains(string(body), `"list":"shimin-katsudo"`) {
		t.Errorf("GET /schedules: %d %s", code, body)
	}
	if code, body := api(t, d, token, "POST", "/api/v1/schedules/"+id+"/pause", nil); code != 200 || !strings.Contains(string(body), `"paused":true`) {
		t.Errorf("pause: %d %s", code, body)
	}
	if code, body := api(t, d, token, "DELETE", "/api/v1/schedules/"+id, nil); code != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", code, body)
	}
	if code, body := api(t, d, token, "POST", "/api/v1/schedules/"+id+"/resume", nil); code != http.StatusNotFound {
		t.Errorf("resume after delete: %d %s, want 404", code, body)
	}
}
