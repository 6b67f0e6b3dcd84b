package notify

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff spaces retries: Base·2^(attempt-1), at most Max, each drawn in
// [d/2, d] so receivers coming back are not hit by every sender at once.
type Backoff struct {
	Base, Max time.Duration
}

// Default backoff: 5s, 10s, 20s … then every 10 minutes.
const (
	DefaultBackoffBase = 5 * time.Second
	DefaultBackoffMax  = 10 * time.Minute
)

// Delay is the wait after the attempt-th failed attempt (attempt ≥ 1).
func (b Backoff) Delay(attempt int) time.Duration {
	if b.Base <= 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max < b.Base {
		b.Max = max(b.Base, DefaultBackoffMax)
	}
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// maxRetryAfter bounds a receiver's Retry-After; max_age bounds it further.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 §10.2.3). It returns 0 when the header is absent, invalid
// or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return maxRetryAfter
			}
			return 0
		}
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d < 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
