package cli

import (
	"errors"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		err  string
	}{
		{"", time.Time{}, ""},
		{"  ", time.Time{}, ""},
		{"90d", now.AddDate(0, 0, 90), ""},
		{"720h", now.Add(720 * time.Hour), ""},
		{"2027-01-01T00:00:00+09:00", time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 9*3600)), ""},
		{"0d", time.Time{}, `--expires "0d": want a positive number of days such as 90d`},
		{"xd", time.Time{}, `--expires "xd": want a positive number of days such as 90d`},
		{"-1h", time.Time{}, `--expires "-1h": must be in the future`},
		{"2020-01-01T00:00:00Z", time.Time{}, `--expires "2020-01-01T00:00:00Z": must be in the future`},
		{"tomorrow", time.Time{}, `--expires "tomorrow": want 90d, 720h or an RFC 3339 time`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpiry(c.in, now)
			if c.err != "" {
				if err == nil || err.Error() != c.err || !errors.Is(err, ErrUsage) {
					t.Errorf("ParseExpiry(%q) = %v, %v; want usage error %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || !got.Equal(c.want) {
				t.Errorf("ParseExpiry(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

func TestTimeOrNever(t *testing.T) {
	t.Parallel()
	if got := TimeOrNever(time.Time{}); got != "never" {
		t.Errorf("zero: %q", got)
	}
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	if got := TimeOrNever(at); got != "2026-12-05T09:00:00+09:00" {
		t.Errorf("time: %q", got)
	}
}
