package scheduler

import (
	"errors"
	"testing"
	"time"
)

func TestWallNextEveryDayOfAYear(t *testing.T) {
	t.Parallel()
	// Every zone's every day fires exactly once for a daily spec, across
	// both DST changes.
	for _, zone := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Tokyo"} {
		loc := mustLoad(t, zone)
		for _, spec := range []string{"30 2 * * *", "30 1 * * *", "0 0 * * *"} {
			tm, err := parseTiming(spec, time.Time{}, zone, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
			days := map[string]int{}
			for at := tm.next(from); at.Year() == 2027; at = tm.next(at) {
				days[at.In(loc).Format("01-02")]++
			}
			want := 365
			if spec == "0 0 * * *" {
				want = 364 // 01-01 00:00 itself is not after from
			}
			if len(days) != want {
				t.Errorf("%s %s: fired on %d days, want %d", zone, spec, len(days), want)
			}
			for d, n := range days {
				if n != 1 {
					t.Errorf("%s %s: %s fired %d times", zone, spec, d, n)
				}
			}
		}
	}
}

func FuzzParseTiming(f *testing.F) {
	for _, s := range []string{"0 9 * * 1", "@daily", "@every 90s", "*/15 8-17 * * 1-5", "0 0 29 2 *", "61 * * * *", "@every 0s"} {
		f.Add(s, "Asia/Tokyo")
	}
	f.Add("30 2 * * *", "America/New_York")
	f.Fuzz(func(t *testing.T, spec, tz string) {
		tm, err := parseTiming(spec, time.Time{}, tz, time.UTC)
		if err != nil {
			return
		}
		from := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		prev := from
		for range 5 {
			n := tm.next(prev)
			if n.IsZero() {
				return
			}
			if !n.After(prev) {
				t.Fatalf("%q in %q: next(%v) = %v, not later", spec, tz, prev, n)
			}
			prev = n
		}
	})
}

// When both day fields are restricted, both must match: "0 10 1-7 * 1"
// is the first Monday of the month, not days 1-7 and every Monday.
func TestBothDayFieldsMustMatch(t *testing.T) {
	t.Parallel()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, tc := range []struct {
		spec  string
		after time.Time
		want  []time.Time
	}{
		{"0 10 1-7 * 1", time.Date(2026, 11, 24, 0, 0, 0, 0, tokyo), []time.Time{
			time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), time.Date(2027, 1, 4, 10, 0, 0, 0, tokyo),
			time.Date(2027, 2, 1, 10, 0, 0, 0, tokyo)}},
		{"0 9 13 * 5", time.Date(2026, 1, 1, 0, 0, 0, 0, tokyo), []time.Time{ // Friday the 13th
			time.Date(2026, 2, 13, 9, 0, 0, 0, tokyo), time.Date(2026, 3, 13, 9, 0, 0, 0, tokyo),
			time.Date(2026, 11, 13, 9, 0, 0, 0, tokyo)}},
		{"0 10 1-7 * *", time.Date(2026, 11, 30, 0, 0, 0, 0, tokyo), []time.Time{ // one field: as before
			time.Date(2026, 12, 1, 10, 0, 0, 0, tokyo), time.Date(2026, 12, 2, 10, 0, 0, 0, tokyo)}},
	} {
		tm, err := parseTiming(tc.spec, time.Time{}, "Asia/Tokyo", time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		at := tc.after
		for _, want := range tc.want {
			at = tm.next(at)
			if !at.Equal(want) {
				t.Errorf("%s: next %v, want %v", tc.spec, at, want)
				break
			}
		}
	}
	// April has no 31st: a spec needing both never fires and is refused.
	if _, err := parseTiming("0 10 31 4 1", time.Time{}, "", time.UTC); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("0 10 31 4 1: %v, want ErrInvalidSpec", err)
	}
}
