package cli

import (
	"strconv"
	"strings"
	"time"
)

// ParseExpiry reads an expiry flag such as --expires: a number of days
// ("90d"), a Go duration ("720h") or an RFC 3339 time, counted from now;
// "" means never (the zero time). A value that is not in the future is a
// usage error.
func ParseExpiry(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return time.Time{}, nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil || n <= 0 {
			return time.Time{}, Usagef("--expires %q: want a positive number of days such as 90d", v)
		}
		return now.AddDate(0, 0, n), nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, Usagef("--expires %q: must be in the future", v)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, Usagef("--expires %q: want 90d, 720h or an RFC 3339 time", v)
	}
	if !t.After(now) {
		return time.Time{}, Usagef("--expires %q: must be in the future", v)
	}
	return t, nil
}

// TimeOrNever formats t in RFC 3339, or "never" for the zero time.
func TimeOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}
