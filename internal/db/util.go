package db

import (
	"net/url"
	"strings"
	"time"
)

// Now returns the current time as stored: Unix microseconds, UTC. Times are
// integers on both databases so that backups move between them unchanged.
func Now() int64 { return time.Now().UnixMicro() }

// Time converts a stored timestamp back to a time.Time (zero for 0).
func Time(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// redactURL removes any password from a database URL before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Placeholders returns "$from, $from+1, …" for n arguments.
func Placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(itoa(from + i))
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// NullID stores id 0 ("none") as NULL.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Bool stores a boolean as 0 or 1, the same on both databases.
func Bool(b bool) int {
	if b {
		return 1
	}
	return 0
}
