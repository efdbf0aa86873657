// Package password hashes, verifies and vets passwords, following NIST SP
// 800-63B and OWASP ASVS 5.0 level 2: argon2id hashes in PHC string format
// whose parameters can be raised over time (Check reports when a stored hash
// should be redone), a length rule with no composition rules, and a
// blocklist of common, repetitive and context-specific passwords (Policy).
//
// Passwords are NFKC-normalized before hashing (SP 800-63B 5.1.1.2), so the
// same password typed on two systems that encode it differently (a
// fullwidth or presentation form, a ligature) still matches.
package password

//go:generate go run gen_common.go

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Length limits in characters (Unicode code points). SP 800-63B: at least
// 64 must be allowed; MaxLength only stops absurd inputs.
const (
	MinLength = 12
	MaxLength = 256
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Current are the parameters Hash uses: OWASP's minimum for argon2id
// (19 MiB, two passes, one lane). Stored hashes record their own
// parameters, so raising these leaves old hashes valid; Check then reports
// needsRehash for them.
var Current = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on parameters read from a stored hash, so that a planted or
// corrupted hash cannot make one sign-in allocate gigabytes or spin for
// minutes. Hash refuses to write a hash outside them.
const (
	maxMemoryKiB = 128 * 1024
	maxTime      = 10
	maxThreads   = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
	maxHashLen   = 512
)

// Errors from Check for a stored hash it will not use.
var (
	ErrMalformedHash    = errors.New("password: malformed hash")
	ErrUnsupported      = errors.New("password: unsupported hash algorithm or version")
	ErrParamsOutOfRange = errors.New("password: hash parameters out of range")
)

// Hash returns an argon2id hash of pw in PHC string format, with the
// Current parameters, a random 16-byte salt and a 32-byte key:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func Hash(pw string) (string, error) {
	return hashWith(pw, Current)
}

// hashWith hashes with the given parameters; tests use it to make hashes
// that Check should ask to redo.
func hashWith(pw string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	return encode(p, salt, argonKey(pw, salt, p, keyLen)), nil
}

func encode(p Params, salt, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// Check reports whether pw matches the stored hash, comparing in constant
// time. needsRehash is true only when pw matches and the hash was not made
// with Current parameters and lengths, so sign-in can store Hash(pw) in
// its place. A hash Check cannot use (malformed, another algorithm,
// parameters out of bounds) is an error, never a match.
func Check(hash, pw string) (ok, needsRehash bool, err error) {
	h, err := parse(hash)
	if err != nil {
		return false, false, err
	}
	got := argonKey(pw, h.salt, h.params, len(h.key))
	ok = subtle.ConstantTimeCompare(got, h.key) == 1
	stale := h.params != Current || len(h.salt) != saltLen || len(h.key) != keyLen
	return ok, ok && stale, nil
}

// Burn spends the time of a Check against a hash made with Current
// parameters, and matches nothing. Sign-in calls it for an account that
// does not exist, so that the response takes as long either way.
func Burn(pw string) {
	salt := make([]byte, saltLen)
	key := make([]byte, keyLen)
	// A random key that no password hashes to; on a failed read the zero
	// key serves as well.
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	_, _, _ = Check(encode(Current, salt, key), pw)
}

// argonKey derives the key from the NFKC form of the password.
func argonKey(pw string, salt []byte, p Params, n int) []byte {
	return argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, p.Time, p.MemoryKiB, p.Threads, uint32(n))
}

func (p Params) check() error {
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB {
		return ErrParamsOutOfRange
	}
	return nil
}

type parsed struct {
	params    Params
	salt, key []byte
}

// parse reads a PHC argon2id string strictly: every field canonical, so a
// hash has one spelling, and every number within bounds.
func parse(hash string) (parsed, error) {
	var h parsed
	if len(hash) > maxHashLen {
		return h, ErrMalformedHash
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, ErrMalformedHash
	}
	if parts[1] != "argon2id" {
		return h, ErrUnsupported
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return h, ErrMalformedHash
	}
	version, err := parseUint(v, 32)
	if err != nil {
		return h, ErrMalformedHash
	}
	if version != argon2.Version {
		return h, ErrUnsupported
	}
	if h.params, err = parseParams(parts[3]); err != nil {
		return h, err
	}
	enc := base64.RawStdEncoding.Strict()
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return h, ErrMalformedHash
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return h, ErrMalformedHash
	}
	return h, nil
}

// parseParams reads "m=<kib>,t=<time>,p=<threads>", in that order only.
func parseParams(s string) (Params, error) {
	var p Params
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return p, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return p, ErrMalformedHash
		}
		n, err := parseUint(v, 32)
		if err != nil {
			return p, ErrMalformedHash
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, ErrParamsOutOfRange
	}
	p = Params{MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	return p, p.check()
}

// parseUint accepts only canonical decimal: digits, no sign, no leading
// zero.
func parseUint(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, ErrMalformedHash
	}
	return strconv.ParseUint(s, 10, bits)
}
