package password

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Rejection codes, stable for API clients and translations.
const (
	CodeTooShort        = "too_short"
	CodeTooLong         = "too_long"
	CodeInvalidUTF8     = "invalid_utf8"
	CodeCommon          = "common"
	CodeContainsContext = "contains_context"
	CodeRepetitive      = "repetitive"
)

// Rejection says why Policy.Check refused a password. Message is for the
// user, to follow the word "password" ("must be at least 14 characters"),
// and never contains the password.
type Rejection struct {
	Code    string
	Message string
}

func (r *Rejection) Error() string { return "password " + r.Message }

// Policy is a workspace's password rule. It sets a length and nothing
// else that users must compose (SP 800-63B 3.1.1.2: no character-class
// rules); the blocklist does the rest.
type Policy struct {
	// MinLength in characters; values below the package MinLength are
	// raised to it, values above MaxLength lowered to it.
	MinLength int
}

// Min is the minimum length the policy enforces.
func (p Policy) Min() int {
	return min(max(p.MinLength, MinLength), MaxLength)
}

// Context is what a password must not contain, by what it is, so that
// CheckContext can say which ("contains your name").
type Context struct {
	Email     string   // the whole address and its local part count
	Name      string   // each word counts
	Workspace []string // the workspace's name and slug: whole and each word
}

// Check returns nil or a *Rejection. context lists the user's email, name
// and the workspace's name and slug: a string with an "@" is taken as the
// email, any other as a name. Comparisons ignore case, Unicode forms,
// Arabic versus Persian letters and digits, and punctuation; context parts
// shorter than four characters are ignored.
func (p Policy) Check(pw string, context ...string) error {
	var parts []contextPart
	for _, c := range context {
		if strings.Contains(c, "@") {
			parts = append(parts, emailParts(c)...)
		} else {
			parts = append(parts, nameParts(c, "your name or the workspace name")...)
		}
	}
	return p.check(pw, parts)
}

// CheckContext is Check with the context labelled, for messages that say
// which part the password contains.
func (p Policy) CheckContext(pw string, c Context) error {
	parts := emailParts(c.Email)
	parts = append(parts, nameParts(c.Name, "your name")...)
	for _, w := range c.Workspace {
		parts = append(parts, nameParts(w, "the workspace name")...)
	}
	return p.check(pw, parts)
}

func (p Policy) check(pw string, parts []contextPart) error {
	if !utf8.ValidString(pw) {
		return &Rejection{CodeInvalidUTF8, "must be valid UTF-8 text"}
	}
	// Length counts code points as entered (SP 800-63B), before NFKC,
	// which can expand one character into many.
	n := utf8.RuneCountInString(pw)
	if n < p.Min() {
		return &Rejection{CodeTooShort, fmt.Sprintf("must be at least %d characters", p.Min())}
	}
	if n > MaxLength {
		return &Rejection{CodeTooLong, fmt.Sprintf("must be at most %d characters", MaxLength)}
	}
	if what := containsContext(pw, parts); what != "" {
		return &Rejection{CodeContainsContext, "contains " + what}
	}
	// A listed password as it stands, then a pattern ("123456789012" is a
	// sequence before it is "123456789" plus digits), then a listed
	// password altered.
	fs := forms(pw)
	if why := listedReason(fs); why != "" {
		return &Rejection{CodeCommon, why}
	}
	for _, f := range fs {
		if why := repetitiveReason(f.s); why != "" {
			return &Rejection{CodeRepetitive, why}
		}
	}
	if why := variantReason(fs); why != "" {
		return &Rejection{CodeCommon, why}
	}
	return nil
}

// contextPart is one string a password must not contain (folded, letters
// and digits only) and what to call it in the message.
type contextPart struct {
	key, what string
}

// minContextLen: shorter parts ("Ali", "HQ") would reject too much.
const minContextLen = 4

func emailParts(email string) []contextPart {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil
	}
	const what = "your email address"
	parts := []contextPart{{alnum(fold(email)), what}}
	if at := strings.LastIndex(email, "@"); at > 0 {
		parts = append(parts, contextPart{alnum(fold(email[:at])), what})
	}
	return parts
}

// nameParts are the whole of s and each of its words.
func nameParts(s, what string) []contextPart {
	f := fold(s)
	parts := []contextPart{{alnum(f), what}}
	for _, w := range strings.FieldsFunc(f, func(r rune) bool { return !isAlnum(r) }) {
		parts = append(parts, contextPart{w, what})
	}
	return parts
}

// containsContext returns what part of the context pw contains, or "".
// The password is also read as typed on the Persian layout, so a Latin
// name typed with the wrong layout active is still found.
func containsContext(pw string, parts []contextPart) string {
	if len(parts) == 0 {
		return ""
	}
	hay := []string{alnum(fold(pw))}
	if l, ok := latinLayout(pw); ok {
		hay = append(hay, alnum(fold(l)))
	}
	for _, part := range parts {
		if utf8.RuneCountInString(part.key) < minContextLen {
			continue
		}
		for _, h := range hay {
			if strings.Contains(h, part.key) {
				return part.what
			}
		}
	}
	return ""
}
