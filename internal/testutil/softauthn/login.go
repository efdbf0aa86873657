package softauthn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// requestOptions is the part of PublicKeyCredentialRequestOptionsJSON
// (WebAuthn §5.5) an authenticator acts on.
type requestOptions struct {
	PublicKey struct {
		Challenge        b64Bytes     `json:"challenge"`
		RPID             string       `json:"rpId"`
		Allow            []descriptor `json:"allowCredentials"`
		UserVerification string       `json:"userVerification"`
	} `json:"publicKey"`
}

// Login answers options for navigator.credentials.get with the JSON of the
// assertion. With allowCredentials it uses one of those held here; without,
// a discoverable credential for the relying party, and returns its user
// handle. It fails with ErrNotAllowed when nothing matches. Of several
// candidates it takes the newest, unless Use names one.
func (a *Authenticator) Login(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("softauthn: reading request options: %w", err)
	}
	pk := &o.PublicKey
	if len(pk.Challenge) == 0 {
		return nil, fmt.Errorf("softauthn: TypeError: challenge is required")
	}
	rpID, err := a.rpIDFor(pk.RPID)
	if err != nil {
		return nil, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.pickLocked(rpID, pk.Allow)
	if c == nil {
		return nil, ErrNotAllowed
	}
	if !a.ReplayCounter || c.counter == 0 {
		c.counter++
	}
	clientData, err := a.clientData("webauthn.get", pk.Challenge)
	if err != nil {
		return nil, err
	}
	rpHash := sha256.Sum256([]byte(rpID))
	authData := append(append(rpHash[:], a.flagsFor(c)), counterBytes(c.counter)...)
	sig, err := sign(c.key, authData, clientData)
	if err != nil {
		return nil, err
	}
	if a.Tamper {
		sig[len(sig)-1] ^= 0x01 // last byte of s: still valid DER, wrong value
	}
	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(clientData),
		"authenticatorData": b64.EncodeToString(authData),
		"signature":         b64.EncodeToString(sig),
	}
	if c.resident {
		resp["userHandle"] = b64.EncodeToString(c.userHandle)
	}
	return json.Marshal(map[string]any{
		"id":                      b64.EncodeToString(c.id),
		"rawId":                   b64.EncodeToString(c.id),
		"type":                    "public-key",
		"authenticatorAttachment": "cross-platform",
		"clientExtensionResults":  map[string]any{},
		"response":                resp,
	})
}

// pickLocked chooses the credential to answer with, or nil.
func (a *Authenticator) pickLocked(rpID string, allow []descriptor) *credential {
	for i := len(a.creds) - 1; i >= 0; i-- {
		c := a.creds[i]
		if c.rpID != rpID || (a.Use != nil && !bytes.Equal(a.Use, c.id)) {
			continue
		}
		if len(allow) == 0 {
			if c.resident {
				return c
			}
			continue
		}
		for _, d := range allow {
			if bytes.Equal(d.ID, c.id) {
				return c
			}
		}
	}
	return nil
}

// sign is the assertion signature (WebAuthn §6.3.3): ECDSA P-256 with
// SHA-256 over authenticatorData || SHA-256(clientDataJSON), ASN.1 DER.
func sign(key *ecdsa.PrivateKey, authData, clientData []byte) ([]byte, error) {
	clientHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(bytes.Clone(authData), clientHash[:]...))
	return ecdsa.SignASN1(rand.Reader, key, digest[:])
}
