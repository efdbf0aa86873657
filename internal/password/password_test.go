package password

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// cheap are parameters small enough for tests that hash many times.
var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func mustHashWith(t testing.TB, pw string, p Params) string {
	t.Helper()
	h, err := hashWith(pw, p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashMatchesOnlyItsPassword(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "رمز عبور خیلی امن ۱۲۳", ""} {
		h, err := Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if ok, rehash, err := Check(h, pw); !ok || rehash || err != nil {
			t.Errorf("Check(Hash(%q), same) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
		for _, wrong := range []string{pw + " ", strings.ToUpper(pw) + "x", "x" + pw} {
			if ok, rehash, err := Check(h, wrong); ok || rehash || err != nil {
				t.Errorf("Check(Hash(%q), %q) = %v, %v, %v; want false, false, nil", pw, wrong, ok, rehash, err)
			}
		}
	}
}

func TestHashIsOWASPArgon2idWithFreshSalt(t *testing.T) {
	a := mustHashWith(t, "same password twice", Current)
	b := mustHashWith(t, "same password twice", Current)
	for _, h := range []string{a, b} {
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("hash %q does not record argon2id v=19 with m=19456,t=2,p=1", h)
		}
		parsed, err := parse(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(parsed.salt) != 16 || len(parsed.key) != 32 {
			t.Errorf("hash %q has a %d-byte salt and %d-byte key; want 16 and 32", h, len(parsed.salt), len(parsed.key))
		}
	}
	if strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Error("two hashes share a salt")
	}
}

func TestPasswordIsComparedInNFKC(t *testing.T) {
	// A ligature and fullwidth digits are the same password as their
	// plain spelling (SP 800-63B: normalize before hashing).
	h := mustHashWith(t, "ﬁne password １２３", cheap)
	if ok, _, err := Check(h, "fine password 123"); !ok || err != nil {
		t.Errorf("NFKC-equal spelling did not match: %v, %v", ok, err)
	}
}

func TestMalformedHashIsAnError(t *testing.T) {
	good := mustHashWith(t, "a good password", cheap)
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
		"text before":          "x" + good,
		"too few parts":        strings.Join(parts[:5], "$"),
		"too many parts":       good + "$extra",
		"version not a number": with(2, "v=abc"),
		"no version":           with(2, ""),
		"wrong version":        with(2, "v=16"),
		"version leading zero": with(2, "v=019"),
		"params garbled":       with(3, "m=x,t=1,p=1"),
		"params missing":       with(3, ""),
		"params reordered":     with(3, "t=1,m=64,p=1"),
		"params with plus":     with(3, "m=+64,t=1,p=1"),
		"params leading zero":  with(3, "m=064,t=1,p=1"),
		"trailing params":      with(3, "m=64,t=1,p=1,x=9"),
		"threads overflow":     with(3, "m=64,t=1,p=256"),
		"memory overflow":      with(3, "m=4294967296,t=1,p=1"),
		"negative memory":      with(3, "m=-1,t=1,p=1"),
		"salt not base64":      with(4, "!!!!"),
		"salt too short":       with(4, "c2FsdA"),
		"key not base64":       with(5, "@@@@"),
		"key empty":            with(5, ""),
		"key too short":        with(5, "aGFzaA"),
		"padded base64 key":    with(5, parts[5]+"=="),
		"huge":                 good + strings.Repeat("A", 1<<20),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := Check(h, "a good password")
			if ok || rehash || err == nil {
				t.Errorf("Check(%.80q) = %v, %v, %v; want false and an error", h, ok, rehash, err)
			}
		})
	}
}

func TestPlantedHashCannotDemandGigabytes(t *testing.T) {
	salt, key := make([]byte, 16), make([]byte, 32)
	for name, p := range map[string]Params{
		"4 GiB memory":   {MemoryKiB: 4 << 20, Time: 1, Threads: 1},
		"256 MiB memory": {MemoryKiB: 256 << 10, Time: 1, Threads: 1},
		"1000 passes":    {MemoryKiB: 64, Time: 1000, Threads: 1},
		"255 threads":    {MemoryKiB: 64 << 10, Time: 1, Threads: 255},
		"zero passes":    {MemoryKiB: 64, Time: 0, Threads: 1},
		"zero threads":   {MemoryKiB: 64, Time: 1, Threads: 0},
		"memory < 8*p":   {MemoryKiB: 8, Time: 1, Threads: 2},
	} {
		t.Run(name, func(t *testing.T) {
			h := encode(p, salt, key)
			if ok, _, err := Check(h, "a good password"); ok || !errors.Is(err, ErrParamsOutOfRange) {
				t.Errorf("Check(%q) = %v, %v; want ErrParamsOutOfRange", h, ok, err)
			}
			if _, err := hashWith("a good password", p); !errors.Is(err, ErrParamsOutOfRange) {
				t.Errorf("hashWith(%+v) = %v; want ErrParamsOutOfRange", p, err)
			}
		})
	}
}

func TestHashRefusesCurrentParamsThatCheckWouldRefuse(t *testing.T) {
	saved := Current
	t.Cleanup(func() { Current = saved })
	Current = Params{MemoryKiB: 1 << 20, Time: 2, Threads: 1}
	if h, err := Hash("a good password"); err == nil {
		t.Errorf("Hash with 1 GiB parameters = %q; want an error", h)
	}
}

func TestOlderParametersAskForRehashOnSuccessOnly(t *testing.T) {
	weaker := Params{MemoryKiB: 64, Time: 1, Threads: 1}
	stronger := Params{MemoryKiB: Current.MemoryKiB, Time: Current.Time + 1, Threads: Current.Threads}
	for name, h := range map[string]string{
		"weaker":          mustHashWith(t, "a good password", weaker),
		"stronger":        mustHashWith(t, "a good password", stronger),
		"short salt":      shortSaltHash(t, "a good password"),
		"same but 64-key": longKeyHash(t, "a good password"),
	} {
		t.Run(name, func(t *testing.T) {
			if ok, rehash, err := Check(h, "a good password"); !ok || !rehash || err != nil {
				t.Errorf("Check(%q, right) = %v, %v, %v; want true, true, nil", h, ok, rehash, err)
			}
			if ok, rehash, err := Check(h, "a bad password"); ok || rehash || err != nil {
				t.Errorf("Check(%q, wrong) = %v, %v, %v; want false, false, nil (never rehash a wrong password)", h, ok, rehash, err)
			}
		})
	}
}

// shortSaltHash is a valid hash with Current parameters but an 8-byte
// salt, as an older scheme might have written.
func shortSaltHash(t *testing.T, pw string) string {
	t.Helper()
	salt := []byte("8bytes!!")
	return encode(Current, salt, argonKey(pw, salt, Current, keyLen))
}

func longKeyHash(t *testing.T, pw string) string {
	t.Helper()
	salt := []byte("sixteen byte salt")[:16]
	return encode(Current, salt, argonKey(pw, salt, Current, 64))
}

func TestBurnMatchesNothingAndDoesNotPanic(t *testing.T) {
	Burn("")
	Burn("a good password")
	Burn("\xff\xfe")
}

// cheapToCheck reports whether hash is unparseable or names parameters
// small enough to hash thousands of times a second; the fuzz target only
// hashes those.
func cheapToCheck(hash string) bool {
	h, err := parse(hash)
	return err != nil || (h.params.MemoryKiB <= 256 && h.params.Time <= 2)
}

func FuzzCheck(f *testing.F) {
	f.Add(mustHashWith(f, "password", cheap), "password")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "password")
	f.Add("$argon2id$v=19$m=x$$", "")
	f.Add("", "")
	f.Add("$$$$$", "\x00")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$", "\xff")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		if !cheapToCheck(hash) {
			return
		}
		ok, rehash, err := Check(hash, pw) // a panic fails the target
		if err != nil && (ok || rehash) {
			t.Fatalf("Check(%q) = %v, %v with error %v", hash, ok, rehash, err)
		}
		if rehash && !ok {
			t.Fatalf("Check(%q) asks to rehash a wrong password", hash)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	h := mustHashWith(b, "correct horse battery staple", Current)
	for b.Loop() {
		if _, _, err := Check(h, "correct horse battery stapler"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBurn should take as long as BenchmarkCheck: that is Burn's
// promise, measured rather than asserted (timing asserts flake).
func BenchmarkBurn(b *testing.B) {
	for b.Loop() {
		Burn("correct horse battery stapler")
	}
}

func ExampleCheck() {
	h, _ := Hash("correct horse battery staple")
	ok, needsRehash, err := Check(h, "correct horse battery staple")
	fmt.Println(ok, needsRehash, err)
	// Output: true false <nil>
}
