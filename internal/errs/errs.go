// Package errs holds the typed errors domain services return. The HTTP
// adapters map them to status codes; domain code never imports net/http.
package errs

import (
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrNotFound means the thing does not exist or is outside the caller's
// scope. The two are deliberately the same error, so that a probe cannot
// tell a Finance ticket from a missing one.
var ErrNotFound = errors.New("not found")

// ErrForbidden means the caller may see the thing but not do this to it.
var ErrForbidden = errors.New("forbidden")

// ErrUnauthenticated means no valid identity came with the request.
var ErrUnauthenticated = errors.New("unauthenticated")

// Conflict is returned when a write collides with existing data (a taken
// email, a duplicate name).
type Conflict struct {
	Field   string
	Message string
}

func (c *Conflict) Error() string { return c.Message }

// Invalid collects field-level validation failures.
type Invalid struct {
	Fields map[string]string
}

func (v *Invalid) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + v.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Validator accumulates field errors; Err returns nil when there are none.
type Validator struct{ fields map[string]string }

// Add records a failure for field (the first one per field wins).
func (v *Validator) Add(field, format string, args ...any) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = fmt.Sprintf(format, args...)
	}
}

// Text checks a free-text field: valid UTF-8, no NUL, length bounds in
// characters. required means it may not be blank.
func (v *Validator) Text(field, value string, required bool, maxChars int) {
	switch {
	case !utf8.ValidString(value):
		v.Add(field, "must be valid UTF-8 text")
	case strings.ContainsRune(value, 0):
		v.Add(field, "must not contain NUL characters")
	case required && strings.TrimSpace(value) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(value) > maxChars:
		v.Add(field, "must be at most %d characters", maxChars)
	}
}

// Err returns the collected failures as *Invalid, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Invalid{Fields: v.fields}
}

// Field builds an *Invalid for one field.
func Field(field, format string, args ...any) error {
	var v Validator
	v.Add(field, format, args...)
	return v.Err()
}

// Email checks an email address the way every form does.
func (v *Validator) Email(field, email string) {
	v.Text(field, email, true, 254)
	if a, err := mail.ParseAddress(email); err == nil && a.Address == strings.TrimSpace(email) && strings.Contains(email, "@") {
		return
	}
	v.Add(field, "must be an email address like name@example.com")
}
