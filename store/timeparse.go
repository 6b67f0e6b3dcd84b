package store

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads a time bound of the API and CLI: RFC 3339 (with or without
// fractional seconds), a date (2026-11-22), "now", or a time relative to now
// ("-15m", "-24h", "-7d").
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "now-"):
		rel := strings.TrimPrefix(strings.TrimPrefix(s, "now"), "-")
		mult := time.Duration(1)
		if d, ok := strings.CutSuffix(rel, "d"); ok {
			rel, mult = d+"h", 24
		} else if w, ok := strings.CutSuffix(rel, "w"); ok {
			rel, mult = w+"h", 24*7
		}
		d, err := time.ParseDuration(rel)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%q is not a relative time (examples: -15m, -24h, -7d)", s)
		}
		return now.Add(-d * mult), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		loc := time.UTC
		if layout != time.RFC3339Nano {
			loc = now.Location() // no zone written: the server's zone
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339 like 2026-11-22T10:00:00Z, a date, now, or -15m)", s)
}
