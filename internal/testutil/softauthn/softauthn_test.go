package softauthn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

const origin = "https://desk.example.com"

func creation(exclude ...[]byte) []byte {
	ex := make([]map[string]any, 0, len(exclude))
	for _, id := range exclude {
		ex = append(ex, map[string]any{"type": "public-key", "id": b64.EncodeToString(id)})
	}
	o, _ := json.Marshal(map[string]any{"publicKey": map[string]any{
		"rp":                 map[string]any{"id": "desk.example.com", "name": "Hesar"},
		"user":               map[string]any{"id": b64.EncodeToString([]byte("user-1")), "name": "a", "displayName": "A"},
		"challenge":          b64.EncodeToString([]byte("0123456789abcdef")),
		"pubKeyCredParams":   []map[string]any{{"type": "public-key", "alg": -7}},
		"excludeCredentials": ex,
	}})
	return o
}

func request(allow ...[]byte) []byte {
	al := make([]map[string]any, 0, len(allow))
	for _, id := range allow {
		al = append(al, map[string]any{"type": "public-key", "id": b64.EncodeToString(id)})
	}
	o, _ := json.Marshal(map[string]any{"publicKey": map[string]any{
		"challenge": b64.EncodeToString([]byte("fedcba9876543210")), "rpId": "desk.example.com", "allowCredentials": al,
	}})
	return o
}

type response struct {
	ID       string `json:"id"`
	RawID    string `json:"rawId"`
	Type     string `json:"type"`
	Response struct {
		ClientDataJSON    b64Bytes `json:"clientDataJSON"`
		AttestationObject b64Bytes `json:"attestationObject"`
		AuthenticatorData b64Bytes `json:"authenticatorData"`
		Signature         b64Bytes `json:"signature"`
		UserHandle        b64Bytes `json:"userHandle"`
	} `json:"response"`
}

// registerAndReadKey registers and reads the public key back out of the
// attestation object the way a relying party would, checking its layout.
func registerAndReadKey(t *testing.T, a *Authenticator) *ecdsa.PublicKey {
	t.Helper()
	raw, err := a.Register(creation())
	if err != nil {
		t.Fatal(err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	var att struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}
	if err := cbor.Unmarshal(r.Response.AttestationObject, &att); err != nil {
		t.Fatal(err)
	}
	d := att.AuthData
	rpHash := sha256.Sum256([]byte("desk.example.com"))
	if att.Fmt != "none" || len(att.AttStmt) != 0 || !bytes.Equal(d[:32], rpHash[:]) || d[32] != flagUP|flagUV|flagAT {
		t.Fatalf("attestation: fmt %q, stmt %v, flags %#x", att.Fmt, att.AttStmt, d[32])
	}
	idLen := int(binary.BigEndian.Uint16(d[53:55]))
	if r.ID != r.RawID || r.Type != "public-key" || b64.EncodeToString(d[55:55+idLen]) != r.ID {
		t.Fatalf("credential id mismatch")
	}
	var key map[int]any
	if err := cbor.Unmarshal(d[55+idLen:], &key); err != nil {
		t.Fatal(err)
	}
	x, y := key[-2].([]byte), key[-3].([]byte)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("COSE key %v: %v", key, err)
	}
	var cd struct{ Type, Challenge, Origin string }
	if err := json.Unmarshal(r.Response.ClientDataJSON, &cd); err != nil || cd.Type != "webauthn.create" || cd.Origin != origin {
		t.Fatalf("client data %s", r.Response.ClientDataJSON)
	}
	return pub
}

func assertionVerifies(t *testing.T, pub *ecdsa.PublicKey, raw []byte) (bool, response) {
	t.Helper()
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	clientHash := sha256.Sum256(r.Response.ClientDataJSON)
	digest := sha256.Sum256(append(bytes.Clone(r.Response.AuthenticatorData), clientHash[:]...))
	return ecdsa.VerifyASN1(pub, digest[:], r.Response.Signature), r
}

func TestAssertionsAreRealSignaturesWithRisingCounters(t *testing.T) {
	a := New(origin)
	pub := registerAndReadKey(t, a)
	for want := uint32(1); want <= 2; want++ {
		raw, err := a.Login(request(a.CredentialIDs()[0]))
		if err != nil {
			t.Fatal(err)
		}
		ok, r := assertionVerifies(t, pub, raw)
		if !ok {
			t.Fatal("signature does not verify")
		}
		if got := binary.BigEndian.Uint32(r.Response.AuthenticatorData[33:37]); got != want {
			t.Fatalf("counter %d, want %d", got, want)
		}
		if !bytes.Equal(r.Response.UserHandle, []byte("user-1")) {
			t.Fatalf("user handle %q", r.Response.UserHandle)
		}
	}
}

func TestKnobsMisbehaveAsAdvertised(t *testing.T) {
	a := New(origin)
	pub := registerAndReadKey(t, a)
	a.Tamper = true
	raw, _ := a.Login(request())
	if ok, _ := assertionVerifies(t, pub, raw); ok {
		t.Fatal("tampered signature verifies")
	}
	a.Tamper, a.ReplayCounter = false, true
	raw, _ = a.Login(request())
	raw2, _ := a.Login(request())
	_, r1 := assertionVerifies(t, pub, raw)
	_, r2 := assertionVerifies(t, pub, raw2)
	if !bytes.Equal(r1.Response.AuthenticatorData[33:37], r2.Response.AuthenticatorData[33:37]) {
		t.Fatal("ReplayCounter did not repeat the counter")
	}
	a.WrongOrigin = true
	raw, _ = a.Login(request())
	_, r := assertionVerifies(t, pub, raw)
	if bytes.Contains(r.Response.ClientDataJSON, []byte(origin)) {
		t.Fatal("WrongOrigin kept the real origin")
	}
}

func TestRefusesLikeARealAuthenticator(t *testing.T) {
	a := New(origin)
	if _, err := a.Login(request()); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("empty authenticator: %v", err)
	}
	registerAndReadKey(t, a)
	if _, err := a.Register(creation(a.CredentialIDs()[0])); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("excluded credential: %v", err)
	}
	if _, err := a.Login(request([]byte("someone else's key"))); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("unknown allowCredentials: %v", err)
	}
	if _, err := New("https://evil.example").Register(creation()); err == nil {
		t.Fatal("registered for an rp id that is not the origin's")
	}
	noES256 := bytes.Replace(creation(), []byte(`"alg":-7`), []byte(`"alg":-257`), 1)
	if _, err := New(origin).Register(noES256); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("without ES256: %v", err)
	}
}
