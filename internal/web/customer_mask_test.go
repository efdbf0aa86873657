package web

import "testing"

func TestContactDetailsAreMaskedButTellable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"maryam.h@example.com", "m•••@example.com"},
		{"a@b.ir", "a•••@b.ir"},
		{"مریم@example.ir", "م•••@example.ir"},
		{"no-at-sign", "••••••••"},
		{"", ""},
	} {
		if got := maskEmail(c.in); got != c.want {
			t.Errorf("maskEmail(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"+98 912 345 6789", "+•• ••• ••• ••89"},
		{"۰۹۱۲۳۴۵۶۷۸۹", "•••••••••۸۹"},
		{"5", "5"},
		{"", ""},
	} {
		if got := maskPhone(c.in); got != c.want {
			t.Errorf("maskPhone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
