package mfa

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/hesar/hesar/internal/errs"
)

const (
	// DefaultCeremonyTimeout is how long a begun ceremony may take to finish.
	DefaultCeremonyTimeout = 5 * time.Minute

	maxHandleSize   = 64       // WebAuthn's limit on a user handle
	maxResponseSize = 64 << 10 // a response is a few KB; refuse to parse more
	maxStateSize    = 16 << 10
)

// RelyingParty is the site's WebAuthn identity.
type RelyingParty struct {
	// ID is the registrable domain credentials are bound to, e.g.
	// "desk.example.com" (no scheme, no port). Changing it later orphans
	// every registered key.
	ID string
	// Name is shown by the browser while registering, e.g. "Hesar".
	Name string
	// Origins are the exact origins pages run the ceremony from, e.g.
	// "https://desk.example.com"; each must be on ID or a subdomain of it.
	// Browsers run ceremonies only on https pages and http://localhost.
	Origins []string
	// CeremonyTimeout bounds Begin→Finish; zero means 5 minutes.
	CeremonyTimeout time.Duration
	// Now is the clock; nil means time.Now. Tests move it to expire states.
	Now func() time.Time
}

// WebAuthn runs registration and sign-in ceremonies for one relying party.
// It holds no per-user data and is safe for concurrent use.
//
// Each BeginX returns options for the browser and a state for the server.
// Keep the state server-side (it is not sealed), hand it to FinishX once,
// and delete it then, whatever the outcome: a state is good for its whole
// timeout, and a passkey whose counter stays at 0 could replay an answer.
type WebAuthn struct {
	lib     *webauthn.WebAuthn
	timeout time.Duration
	now     func() time.Time
}

// Account is the user as WebAuthn sees them.
type Account struct {
	// Handle is the user handle: random, at most 64 bytes, never an email
	// or a database id (authenticators may show it). See NewAccountHandle.
	Handle []byte
	// Name identifies the account to the user in the browser's key picker
	// (e.g. the email); DisplayName is the person's name.
	Name, DisplayName string
	// Credentials are the account's registered keys.
	Credentials []Credential
}

// Credential is a registered key, as the caller stores it.
type Credential struct {
	// ID is the credential id, the lookup key for passwordless sign-in.
	ID []byte
	// JSON is the library's full credential record (public key, flags,
	// counter, attestation), to be stored as is, ideally sealed.
	JSON []byte
	// SignCount is the authenticator's signature counter after this
	// ceremony. It is also inside JSON; the larger of the two is trusted,
	// so a stale copy in either place cannot hide a cloned key.
	SignCount uint32
}

// NewAccountHandle returns a random 32-byte user handle for an account that
// has none yet.
func NewAccountHandle() ([]byte, error) {
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		return nil, fmt.Errorf("mfa: generating user handle: %w", err)
	}
	return h, nil
}

// NewWebAuthn checks rp and returns a WebAuthn for it.
func NewWebAuthn(rp RelyingParty) (*WebAuthn, error) {
	if rp.ID == "" || rp.Name == "" || len(rp.Origins) == 0 {
		return nil, errors.New("mfa: relying party needs an ID, a name and at least one origin")
	}
	for _, o := range rp.Origins {
		// Plain http is let through: browsers refuse to run a ceremony on an
		// http page other than localhost's, so it can do no harm, and an
		// operator trying Hesar on a LAN keeps TOTP working.
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
			(u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("mfa: origin %q must be https://host[:port]", o)
		}
		if h := u.Hostname(); h != rp.ID && !strings.HasSuffix(h, "."+rp.ID) {
			return nil, fmt.Errorf("mfa: origin %q is not on relying party id %q", o, rp.ID)
		}
	}
	timeout := rp.CeremonyTimeout
	if timeout <= 0 {
		timeout = DefaultCeremonyTimeout
	}
	now := rp.Now
	if now == nil {
		now = time.Now
	}
	ceremony := webauthn.TimeoutConfig{Enforce: true, Timeout: timeout, TimeoutUVD: timeout}
	lib, err := webauthn.New(&webauthn.Config{
		RPID:                  rp.ID,
		RPDisplayName:         rp.Name,
		RPOrigins:             append([]string(nil), rp.Origins...),
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: protocol.ResidentKeyNotRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: ceremony, Registration: ceremony},
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: relying party: %w", err)
	}
	return &WebAuthn{lib: lib, timeout: timeout, now: now}, nil
}

// BeginRegistration starts adding a key to a. options go to the browser
// as they are (JSON {"publicKey": …} for navigator.credentials.create after
// base64url decoding); state stays server-side for FinishRegistration.
// The account's existing keys are excluded, so an authenticator that already
// holds one refuses; user verification and a discoverable (passkey)
// credential are preferred, not required; no attestation is asked for.
func (w *WebAuthn) BeginRegistration(a Account) (options []byte, state []byte, err error) {
	u, err := newUser(a)
	if err != nil {
		return nil, nil, err
	}
	if a.Name == "" {
		return nil, nil, reject(ErrInvalidAccount, errors.New("account has no name"))
	}
	creation, session, err := w.lib.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: begin registration: %w", err)
	}
	return w.begin(kindRegistration, creation, session)
}

// FinishRegistration verifies the browser's response to BeginRegistration's
// options and returns the new credential to store.
func (w *WebAuthn) FinishRegistration(a Account, state []byte, response []byte) (Credential, error) {
	session, err := w.decodeState(kindRegistration, state)
	if err != nil {
		return Credential{}, err
	}
	if !bytes.Equal(session.UserID, a.Handle) {
		return Credential{}, reject(ErrInvalidState, errors.New("registration begun for another account"))
	}
	u, err := newUser(a)
	if err != nil {
		return Credential{}, err
	}
	if len(response) > maxResponseSize {
		return Credential{}, reject(ErrMalformedResponse, errors.New("response too large"))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, reject(ErrMalformedResponse, err)
	}
	cred, err := w.lib.CreateCredential(u, *session, parsed)
	if err != nil {
		return Credential{}, rejectVerification(err)
	}
	if u.find(cred.ID) != nil {
		return Credential{}, reject(ErrCredentialExists, nil)
	}
	return toCredential(cred)
}

// BeginLogin starts a second-factor sign-in for a, allowing only a's keys.
func (w *WebAuthn) BeginLogin(a Account) (options, state []byte, err error) {
	u, err := newUser(a)
	if err != nil {
		return nil, nil, err
	}
	if len(u.creds) == 0 {
		return nil, nil, reject(ErrNoCredentials, nil)
	}
	assertion, session, err := w.lib.BeginLogin(u)
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: begin login: %w", err)
	}
	return w.begin(kindLogin, assertion, session)
}

// FinishLogin verifies the browser's response to BeginLogin's options and
// returns the credential used, with its new counter and flags: store it
// back. A counter that did not go up fails with a *CloneError.
func (w *WebAuthn) FinishLogin(a Account, state, response []byte) (Credential, error) {
	session, err := w.decodeState(kindLogin, state)
	if err != nil {
		return Credential{}, err
	}
	if !bytes.Equal(session.UserID, a.Handle) {
		return Credential{}, reject(ErrInvalidState, errors.New("login begun for another account"))
	}
	u, err := newUser(a)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return Credential{}, err
	}
	stored := u.find(parsed.RawID)
	if stored == nil {
		return Credential{}, reject(ErrUnknownCredential, nil)
	}
	cred, err := w.lib.ValidateLogin(u, *session, parsed)
	if err != nil {
		return Credential{}, rejectVerification(err)
	}
	return checkCounter(stored.Authenticator.SignCount, parsed.Response.AuthenticatorData.Counter, cred)
}

// BeginPasswordless starts a sign-in with a discoverable credential (a
// passkey): no account is named, the authenticator offers its own, and user
// verification (PIN or biometric) is required, as the key is then the only
// factor.
func (w *WebAuthn) BeginPasswordless() (options, state []byte, err error) {
	assertion, session, err := w.lib.BeginDiscoverableLogin(
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: begin passwordless login: %w", err)
	}
	return w.begin(kindPasswordless, assertion, session)
}

// FinishPasswordless verifies the browser's response to BeginPasswordless's
// options. lookup finds the account from the credential id and the user
// handle the authenticator returned; it runs before the signature is
// checked, so it must only read. It returns ErrUnknownCredential (or
// errs.ErrNotFound) when no account matches; any other error it returns is
// passed through wrapped, as a server fault. On success the account and the
// credential with its new counter (store it back) are returned.
func (w *WebAuthn) FinishPasswordless(state, response []byte, lookup func(credentialID, userHandle []byte) (Account, error)) (Account, Credential, error) {
	session, err := w.decodeState(kindPasswordless, state)
	if err != nil {
		return Account{}, Credential{}, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return Account{}, Credential{}, err
	}
	if len(parsed.Response.UserHandle) == 0 {
		return Account{}, Credential{}, reject(ErrCredentialRejected, errors.New("no user handle: not a discoverable credential"))
	}
	var (
		account   Account
		stored    *webauthn.Credential
		lookupErr error
	)
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		a, err := lookup(bytes.Clone(rawID), bytes.Clone(userHandle))
		if err != nil {
			lookupErr = err
			return nil, err
		}
		u, err := newUser(a)
		if err != nil {
			lookupErr = err
			return nil, err
		}
		if stored = u.find(rawID); stored == nil {
			lookupErr = ErrUnknownCredential
			return nil, lookupErr
		}
		account = a
		return u, nil
	}
	_, cred, err := w.lib.ValidatePasskeyLogin(handler, *session, parsed)
	switch {
	case lookupErr != nil:
		return Account{}, Credential{}, lookupFailure(lookupErr)
	case err != nil:
		return Account{}, Credential{}, rejectVerification(err)
	}
	c, err := checkCounter(stored.Authenticator.SignCount, parsed.Response.AuthenticatorData.Counter, cred)
	if err != nil {
		return Account{}, Credential{}, err
	}
	return account, c, nil
}

// begin serialises a ceremony's options and state.
func (w *WebAuthn) begin(kind ceremonyKind, options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: encoding %s options: %w", kind, err)
	}
	state, err := w.encodeState(kind, session)
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: encoding %s state: %w", kind, err)
	}
	return opts, state, nil
}

func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) > maxResponseSize {
		return nil, reject(ErrMalformedResponse, errors.New("response too large"))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, reject(ErrMalformedResponse, err)
	}
	return parsed, nil
}

// checkCounter refuses an assertion whose counter did not go up, then
// returns the credential to store. The library only flags this
// (CloneWarning); Hesar refuses, as the WebAuthn spec allows.
func checkCounter(stored, received uint32, cred *webauthn.Credential) (Credential, error) {
	if cred.Authenticator.CloneWarning {
		return Credential{}, &CloneError{
			CredentialID: bytes.Clone(cred.ID),
			Stored:       stored,
			Received:     received,
		}
	}
	return toCredential(cred)
}

func toCredential(cred *webauthn.Credential) (Credential, error) {
	raw, err := json.Marshal(cred)
	if err != nil {
		return Credential{}, fmt.Errorf("mfa: encoding credential: %w", err)
	}
	return Credential{ID: bytes.Clone(cred.ID), JSON: raw, SignCount: cred.Authenticator.SignCount}, nil
}

// rejectVerification maps a library verification error to a sentinel.
func rejectVerification(err error) error {
	var unknown *protocol.ErrorUnknownCredential
	if errors.As(err, &unknown) {
		return reject(ErrUnknownCredential, err)
	}
	return reject(ErrCredentialRejected, err)
}

// lookupFailure maps FinishPasswordless's lookup error.
func lookupFailure(err error) error {
	switch {
	case errors.Is(err, ErrUnknownCredential), errors.Is(err, errs.ErrNotFound):
		return reject(ErrUnknownCredential, err)
	case errors.Is(err, ErrInvalidAccount):
		return err
	}
	return fmt.Errorf("mfa: passwordless account lookup: %w", err)
}
