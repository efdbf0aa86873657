package softauthn

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
)

// creationOptions is the part of PublicKeyCredentialCreationOptionsJSON
// (WebAuthn §5.4) an authenticator acts on.
type creationOptions struct {
	PublicKey struct {
		RP struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID          b64Bytes `json:"id"`
			Name        string   `json:"name"`
			DisplayName string   `json:"displayName"`
		} `json:"user"`
		Challenge b64Bytes     `json:"challenge"`
		Params    []credParam  `json:"pubKeyCredParams"`
		Exclude   []descriptor `json:"excludeCredentials"`
		Selection struct {
			ResidentKey        string `json:"residentKey"`
			RequireResidentKey bool   `json:"requireResidentKey"`
			UserVerification   string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

type credParam struct {
	Type string `json:"type"`
	Alg  int    `json:"alg"`
}

// Register answers options for navigator.credentials.create with the JSON
// of the new PublicKeyCredential (attestation "none"). It refuses, like a
// real authenticator, when a credential of excludeCredentials is here or
// ES256 is not offered. The credential is discoverable unless the relying
// party discourages resident keys.
func (a *Authenticator) Register(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("softauthn: reading creation options: %w", err)
	}
	pk := &o.PublicKey
	if len(pk.Challenge) == 0 || len(pk.User.ID) == 0 {
		return nil, fmt.Errorf("softauthn: TypeError: challenge and user.id are required")
	}
	rpID, err := a.rpIDFor(pk.RP.ID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(pk.Params, credParam{Type: "public-key", Alg: coseES256}) {
		return nil, ErrNotSupported
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ex := range pk.Exclude {
		if a.findLocked(rpID, ex.ID) != nil {
			return nil, ErrInvalidState
		}
	}
	c, err := a.newCredentialLocked(rpID, pk.User.ID, pk.Selection.ResidentKey != "discouraged" || pk.Selection.RequireResidentKey)
	if err != nil {
		return nil, err
	}
	clientData, err := a.clientData("webauthn.create", pk.Challenge)
	if err != nil {
		return nil, err
	}
	authData, err := a.attestedAuthData(c)
	if err != nil {
		return nil, err
	}
	attObj, err := ctap2.Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": authData,
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id":                      b64.EncodeToString(c.id),
		"rawId":                   b64.EncodeToString(c.id),
		"type":                    "public-key",
		"authenticatorAttachment": "cross-platform",
		"clientExtensionResults":  map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"usb"},
		},
	})
}

// newCredentialLocked creates and keeps a key pair for rpID.
func (a *Authenticator) newCredentialLocked(rpID string, userHandle []byte, resident bool) (*credential, error) {
	key, err := newP256Key()
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	c := &credential{id: id, key: key, rpID: rpID, resident: resident}
	if resident {
		c.userHandle = bytes.Clone(userHandle)
	}
	if a.BackupEligible {
		c.flags = flagBE | flagBS
	}
	a.creds = append(a.creds, c)
	return c, nil
}

// attestedAuthData is authenticator data with attested credential data
// (WebAuthn §6.1, §6.5.1): rpIdHash, flags, counter, AAGUID, credential id
// length and id, COSE public key.
func (a *Authenticator) attestedAuthData(c *credential) ([]byte, error) {
	pub, err := coseKey(&c.key.PublicKey)
	if err != nil {
		return nil, err
	}
	rpHash := sha256.Sum256([]byte(c.rpID))
	var d bytes.Buffer
	d.Write(rpHash[:])
	d.WriteByte(a.flagsFor(c) | flagAT)
	d.Write(counterBytes(c.counter))
	d.Write(a.AAGUID[:])
	d.Write(binary.BigEndian.AppendUint16(nil, uint16(len(c.id))))
	d.Write(c.id)
	d.Write(pub)
	return d.Bytes(), nil
}

// findLocked returns the credential for rpID with id, or nil.
func (a *Authenticator) findLocked(rpID string, id []byte) *credential {
	for _, c := range a.creds {
		if c.rpID == rpID && bytes.Equal(c.id, id) {
			return c
		}
	}
	return nil
}
