package identity

import (
	"fmt"
	"strings"
	"testing"
)

func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// checkNoPanic calls CheckPassword and turns a panic into a test failure
// (and an error, so that it is reported once).
func checkNoPanic(t *testing.T, hash, password string) (ok bool, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("CheckPassword(%q) panicked: %v", hash, p)
			ok, err = false, fmt.Errorf("panic: %v", p)
		}
	}()
	return CheckPassword(hash, password)
}

func TestPasswordHashMatchesOnlyItsPassword(t *testing.T) {
	for _, password := range []string{"correct horse battery staple", "رمز عبور خیلی امن ۱۲۳", ""} {
		h := mustHash(t, password)
		if ok, err := CheckPassword(h, password); !ok || err != nil {
			t.Errorf("CheckPassword(hash of %q, same password) = %v, %v; want true", password, ok, err)
		}
		for _, wrong := range []string{password + " ", strings.ToUpper(password) + "x", "x" + password} {
			if ok, err := CheckPassword(h, wrong); ok || err != nil {
				t.Errorf("CheckPassword(hash of %q, %q) = %v, %v; want false, nil", password, wrong, ok, err)
			}
		}
	}
}

func TestPasswordHashUsesOWASPArgon2idWithFreshSalt(t *testing.T) {
	a, b := mustHash(t, "same password twice"), mustHash(t, "same password twice")
	for _, h := range []string{a, b} {
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("hash %q does not record argon2id v=19 with m=19456,t=2,p=1", h)
		}
		if strings.Contains(h, "same password") {
			t.Errorf("hash %q contains the password", h)
		}
	}
	if a == b {
		t.Error("the same password hashed twice gave the same string: the salt is not random")
	}
	if strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Error("two hashes share a salt")
	}
}

func TestMalformedPasswordHashIsAnError(t *testing.T) {
	good := mustHash(t, "a good password")
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=…, salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	cases := map[string]string{
		"empty":                "",
		"plain text":           "a good password",
		"bcrypt":               "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":              with(1, "argon2i"),
		"too few parts":        strings.Join(parts[:5], "$"),
		"too many parts":       good + "$extra",
		"version not a number": with(2, "v=abc"),
		"no version":           with(2, ""),
		"params garbled":       with(3, "m=x,t=2,p=1"),
		"params missing":       with(3, ""),
		"threads overflow":     with(3, "m=19456,t=2,p=256"),
		"negative memory":      with(3, "m=-1,t=2,p=1"),
		"salt not base64":      with(4, "!!!!"),
		"key not base64":       with(5, "@@@@"),
		"padded base64 key":    with(5, parts[5]+"=="),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := checkNoPanic(t, h, "a good password")
			if ok || err == nil {
				t.Errorf("CheckPassword(%q) = %v, %v; want false and an error", h, ok, err)
			}
		})
	}
}

func TestPasswordHashWithUnusableParametersIsAnError(t *testing.T) {
	parts := strings.Split(mustHash(t, "a good password"), "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"zero time":       with(3, "m=19456,t=0,p=1"),
		"zero threads":    with(3, "m=19456,t=2,p=0"),
		"empty key":       with(5, ""),
		"256 MiB memory":  with(3, "m=262144,t=1,p=1"), // far above what HashPassword writes
		"wrong version":   with(2, "v=16"),
		"trailing params": with(3, "m=19456,t=2,p=1,x=9"),
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := checkNoPanic(t, h, "a good password")
			if ok || err == nil {
				t.Errorf("CheckPassword(%q) = %v, %v; want false and an error", h, ok, err)
			}
		})
	}
}

// cheapToCheck reports whether hash is unparseable or names argon2
// parameters small enough to run thousands of times a second. The fuzz
// target only calls CheckPassword on those: with the parameters an attacker
// could write into a hash, one call can take minutes and gigabytes.
func cheapToCheck(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return true
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return true
	}
	return m <= 64 && t <= 2 && p <= 2 && len(parts[5]) <= 256
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$qzCqL1H6ZC0nD9u0mV0xWX5vwCq8ZYtQb5Z7z3x1cAs", "password")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "password") // salt too short: refused before hashing
	f.Add("$argon2id$v=19$m=x$$", "")
	f.Add("", "")
	f.Add("$$$$$", "\x00")
	f.Fuzz(func(t *testing.T, hash, password string) {
		if !cheapToCheck(hash) {
			return // costly parameters: not hashed here (CheckPassword bounds them)
		}
		ok, err := CheckPassword(hash, password) // a panic fails the target
		if ok && err != nil {
			t.Fatalf("CheckPassword(%q) = true with error %v", hash, err)
		}
	})
}
