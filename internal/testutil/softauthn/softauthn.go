// Package softauthn is a software WebAuthn authenticator and client for
// tests: it reads the options a relying party sends to
// navigator.credentials.create/get and answers with the JSON a browser would
// post back, signed with real P-256 keys. It is written from the WebAuthn
// and CTAP2 specifications, not with the server library under test, so the
// two check each other.
//
// Knobs (exported fields) make it misbehave for negative tests.
package softauthn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Errors named after the DOMExceptions a browser raises in the same case.
var (
	// ErrInvalidState: a credential in excludeCredentials is on this
	// authenticator (the browser's InvalidStateError).
	ErrInvalidState = errors.New("softauthn: InvalidStateError: an excluded credential is on this authenticator")
	// ErrNotAllowed: no credential on this authenticator matches the
	// request (the browser's NotAllowedError).
	ErrNotAllowed = errors.New("softauthn: NotAllowedError: no matching credential")
	// ErrNotSupported: the relying party offered no algorithm we have.
	ErrNotSupported = errors.New("softauthn: NotSupportedError: ES256 not offered")
)

// Authenticator flag bits (WebAuthn §6.1).
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagBE = 0x08 // backup eligible
	flagBS = 0x10 // backed up
	flagAT = 0x40 // attested credential data included
)

const coseES256 = -7

// Authenticator is a software authenticator plus the browser around it.
// It is safe for concurrent use.
type Authenticator struct {
	// Origin is what the "browser" puts in clientDataJSON, e.g.
	// "https://desk.example.com".
	Origin string
	// AAGUID identifies the authenticator model in attestation data.
	AAGUID [16]byte

	// WrongOrigin makes clientDataJSON carry a different origin, as a
	// phishing page relaying the ceremony would.
	WrongOrigin bool
	// ReplayCounter makes the next assertions repeat the counter of the
	// last one instead of increasing it, as a cloned key would.
	ReplayCounter bool
	// Tamper flips a bit in each signature (the DER stays well-formed).
	Tamper bool
	// NoUserVerification clears the UV flag, as a key without a PIN does.
	NoUserVerification bool
	// BackupEligible sets BE|BS, as a synced passkey provider does.
	BackupEligible bool
	// Use, when set, restricts Login to the credential with this id, as a
	// user picking one of several keys in the browser's dialog.
	Use []byte

	mu    sync.Mutex
	creds []*credential
}

type credential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte // kept for resident (discoverable) credentials only
	resident   bool
	counter    uint32
	flags      byte // BE|BS as created; they may not change afterwards
}

// New returns an empty authenticator whose client runs at origin.
func New(origin string) *Authenticator {
	a := &Authenticator{Origin: origin}
	copy(a.AAGUID[:], "hesar-softauthn!")
	return a
}

// CredentialIDs returns the ids of the credentials created so far, oldest
// first.
func (a *Authenticator) CredentialIDs() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([][]byte, len(a.creds))
	for i, c := range a.creds {
		ids[i] = bytes.Clone(c.id)
	}
	return ids
}

// Counter returns the signature counter of the credential with id.
func (a *Authenticator) Counter(id []byte) (uint32, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		if bytes.Equal(c.id, id) {
			return c.counter, true
		}
	}
	return 0, false
}

// b64 is the encoding of every binary member in the WebAuthn JSON forms.
var b64 = base64.RawURLEncoding

// b64Bytes is a base64url string in JSON; a trailing '=' from a server that
// pads is tolerated, as browsers' parseFromJSON does.
type b64Bytes []byte

func (b *b64Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	raw, err := b64.DecodeString(trimPadding(s))
	if err != nil {
		return err
	}
	*b = raw
	return nil
}

func trimPadding(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

type descriptor struct {
	Type string   `json:"type"`
	ID   b64Bytes `json:"id"`
}

// clientData builds clientDataJSON (WebAuthn §5.8.1) as a browser would.
func (a *Authenticator) clientData(typ string, challenge []byte) ([]byte, error) {
	origin := a.Origin
	if a.WrongOrigin {
		origin = "https://evil.example"
	}
	return json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, b64.EncodeToString(challenge), origin, false})
}

// rpIDFor returns the relying party id of a request: the one given, or the
// origin's host, and checks it is the origin's host or a parent of it, as a
// browser does (before any WrongOrigin mischief).
func (a *Authenticator) rpIDFor(given string) (string, error) {
	u, err := url.Parse(a.Origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("softauthn: bad origin %q", a.Origin)
	}
	host := u.Hostname()
	if given == "" {
		return host, nil
	}
	if host != given && !(len(host) > len(given) && host[len(host)-len(given)-1:] == "."+given) {
		return "", fmt.Errorf("softauthn: SecurityError: rp id %q is not valid for origin %q", given, a.Origin)
	}
	return given, nil
}

// flags returns the flag byte for an operation on c.
func (a *Authenticator) flagsFor(c *credential) byte {
	f := byte(flagUP) | c.flags
	if !a.NoUserVerification {
		f |= flagUV
	}
	return f
}

func newP256Key() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// coseKey encodes pub as a COSE_Key (RFC 9053 §7.1.1, EC2, ES256).
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	key := map[int]any{
		1:  2,           // kty: EC2
		3:  coseES256,   // alg: ES256
		-1: 1,           // crv: P-256
		-2: point[1:33], // x
		-3: point[33:],  // y
	}
	return ctap2.Marshal(key)
}

// ctap2 is the CTAP2 canonical CBOR encoding authenticators use.
var ctap2 = func() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func counterBytes(n uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return b[:]
}
