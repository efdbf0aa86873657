package mfa_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/testutil/softauthn"
)

const origin = "https://desk.example.com"

// rig is a relying party with a clock the test moves.
type rig struct {
	w   *mfa.WebAuthn
	now time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{now: time.Date(2025, 3, 21, 9, 0, 0, 0, time.UTC)}
	w, err := mfa.NewWebAuthn(mfa.RelyingParty{
		ID: "desk.example.com", Name: "Hesar", Origins: []string{origin},
		Now: func() time.Time { return r.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r
}

func newAccount(t *testing.T, name string) mfa.Account {
	t.Helper()
	h, err := mfa.NewAccountHandle()
	if err != nil {
		t.Fatal(err)
	}
	return mfa.Account{Handle: h, Name: name + "@example.com", DisplayName: name}
}

// register adds a key on auth to a and returns a with it.
func (r *rig) register(t *testing.T, a mfa.Account, auth *softauthn.Authenticator) mfa.Account {
	t.Helper()
	options, state, err := r.w.BeginRegistration(a)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := auth.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := r.w.FinishRegistration(a, state, resp)
	if err != nil {
		t.Fatalf("FinishRegistration: %v (%s)", err, mfa.LogDetail(err))
	}
	a.Credentials = append(a.Credentials, cred)
	return a
}

// login runs a second-factor sign-in and stores the updated credential.
func (r *rig) login(t *testing.T, a mfa.Account, auth *softauthn.Authenticator) (mfa.Account, error) {
	t.Helper()
	options, state, err := r.w.BeginLogin(a)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := auth.Login(options)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := r.w.FinishLogin(a, state, resp)
	if err != nil {
		return a, err
	}
	return store(a, cred), nil
}

// store replaces the credential with cred's id, as the caller's store does.
func store(a mfa.Account, cred mfa.Credential) mfa.Account {
	creds := append([]mfa.Credential(nil), a.Credentials...)
	for i := range creds {
		if bytes.Equal(creds[i].ID, cred.ID) {
			creds[i] = cred
		}
	}
	a.Credentials = creds
	return a
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v (%s), want %v", err, mfa.LogDetail(err), want)
	}
}

func TestTwoKeysRegisterAndEachSignsIn(t *testing.T) {
	r := newRig(t)
	a := newAccount(t, "alice")
	key1, key2 := softauthn.New(origin), softauthn.New(origin)
	a = r.register(t, a, key1)
	a = r.register(t, a, key2)
	if len(a.Credentials) != 2 || bytes.Equal(a.Credentials[0].ID, a.Credentials[1].ID) {
		t.Fatalf("want two distinct credentials, got %d", len(a.Credentials))
	}
	if !bytes.Equal(a.Credentials[0].ID, key1.CredentialIDs()[0]) {
		t.Fatal("credential id is not the authenticator's")
	}
	for i, key := range []*softauthn.Authenticator{key1, key2, key1} {
		var err error
		if a, err = r.login(t, a, key); err != nil {
			t.Fatalf("sign-in %d: %v (%s)", i, err, mfa.LogDetail(err))
		}
	}
	if a.Credentials[0].SignCount != 2 || a.Credentials[1].SignCount != 1 {
		t.Fatalf("sign counts %d, %d; want 2, 1", a.Credentials[0].SignCount, a.Credentials[1].SignCount)
	}
}

func TestRegistrationOptionsAskWhatHesarWants(t *testing.T) {
	r := newRig(t)
	a := r.register(t, newAccount(t, "alice"), softauthn.New(origin))
	options, _, err := r.w.BeginRegistration(a)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP        struct{ ID, Name string }
			User      struct{ ID, Name, DisplayName string }
			Exclude   []struct{ ID string } `json:"excludeCredentials"`
			Selection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Attestation string
			Timeout     int
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	if pk.RP.ID != "desk.example.com" || pk.RP.Name != "Hesar" || pk.User.Name != "alice@example.com" || pk.User.DisplayName != "alice" {
		t.Errorf("rp/user = %+v / %+v", pk.RP, pk.User)
	}
	if len(pk.Exclude) != 1 || pk.Selection.ResidentKey != "preferred" || pk.Selection.UserVerification != "preferred" {
		t.Errorf("exclude %d, selection %+v", len(pk.Exclude), pk.Selection)
	}
	if pk.Attestation != "none" || pk.Timeout != int((5*time.Minute).Milliseconds()) {
		t.Errorf("attestation %q, timeout %d", pk.Attestation, pk.Timeout)
	}

	options, _, err = r.w.BeginPasswordless()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(options, []byte(`"userVerification":"required"`)) || bytes.Contains(options, []byte("allowCredentials")) {
		t.Errorf("passwordless options %s: want UV required and no allow list", options)
	}
}

func TestKeyAlreadyRegisteredIsExcluded(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	options, _, err := r.w.BeginRegistration(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := key.Register(options); !errors.Is(err, softauthn.ErrInvalidState) {
		t.Fatalf("authenticator holding an excluded key answered: %v", err)
	}
	// Another key is still welcome.
	r.register(t, a, softauthn.New(origin))
}

func TestReplayedRegistrationDoesNotAddTheKeyTwice(t *testing.T) {
	r := newRig(t)
	a := newAccount(t, "alice")
	options, state, err := r.w.BeginRegistration(a)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := softauthn.New(origin).Register(options)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := r.w.FinishRegistration(a, state, resp)
	if err != nil {
		t.Fatal(err)
	}
	a.Credentials = []mfa.Credential{cred}
	_, err = r.w.FinishRegistration(a, state, resp)
	wantErr(t, err, mfa.ErrCredentialExists)
}

func TestPasswordlessSignInFindsTheAccountByUserHandle(t *testing.T) {
	r := newRig(t)
	alice, bob := newAccount(t, "alice"), newAccount(t, "bob")
	aliceKey, bobKey := softauthn.New(origin), softauthn.New(origin)
	alice = r.register(t, alice, aliceKey)
	bob = r.register(t, bob, bobKey)
	accounts := []mfa.Account{alice, bob}
	lookup := func(credentialID, userHandle []byte) (mfa.Account, error) {
		for _, a := range accounts {
			if bytes.Equal(a.Handle, userHandle) {
				return a, nil
			}
		}
		return mfa.Account{}, errs.ErrNotFound
	}

	options, state, err := r.w.BeginPasswordless()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := bobKey.Login(options)
	if err != nil {
		t.Fatal(err)
	}
	got, cred, err := r.w.FinishPasswordless(state, resp, lookup)
	if err != nil {
		t.Fatalf("%v (%s)", err, mfa.LogDetail(err))
	}
	if !bytes.Equal(got.Handle, bob.Handle) || !bytes.Equal(cred.ID, bob.Credentials[0].ID) || cred.SignCount != 1 {
		t.Fatalf("signed in %q with counter %d, want bob's key at 1", got.Name, cred.SignCount)
	}
}

func TestPasswordlessWithAnUnknownKeyIsRefused(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	r.register(t, newAccount(t, "alice"), key) // registered, then the account was deleted
	options, state, err := r.w.BeginPasswordless()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := key.Login(options)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.w.FinishPasswordless(state, resp, func(_, _ []byte) (mfa.Account, error) {
		return mfa.Account{}, errs.ErrNotFound
	})
	wantErr(t, err, mfa.ErrUnknownCredential)

	// A storage failure is not dressed up as the user's fault.
	options, state, _ = r.w.BeginPasswordless()
	resp, _ = key.Login(options)
	dbDown := errors.New("database is down")
	_, _, err = r.w.FinishPasswordless(state, resp, func(_, _ []byte) (mfa.Account, error) {
		return mfa.Account{}, dbDown
	})
	if !errors.Is(err, dbDown) || errors.Is(err, mfa.ErrUnknownCredential) || errors.Is(err, mfa.ErrCredentialRejected) {
		t.Fatalf("lookup failure came back as %v", err)
	}
}

func TestPasswordlessNeedsUserVerification(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	key.NoUserVerification = true
	// A second factor does not need it (UV is only preferred) …
	if _, err := r.login(t, a, key); err != nil {
		t.Fatalf("second factor without UV: %v (%s)", err, mfa.LogDetail(err))
	}
	// … but the only factor does.
	options, state, _ := r.w.BeginPasswordless()
	resp, err := key.Login(options)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.w.FinishPasswordless(state, resp, func(_, _ []byte) (mfa.Account, error) { return a, nil })
	wantErr(t, err, mfa.ErrCredentialRejected)
}

func TestResponseFromAnotherOriginIsRejected(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	key.WrongOrigin = true
	_, err := r.login(t, a, key)
	wantErr(t, err, mfa.ErrCredentialRejected)
	if err.Error() != mfa.ErrCredentialRejected.Error() {
		t.Errorf("error text %q says more than the sentinel", err.Error())
	}
	if !strings.Contains(strings.ToLower(mfa.LogDetail(err)), "origin") {
		t.Errorf("log detail %q does not name the origin", mfa.LogDetail(err))
	}

}

func TestRegistrationFromAnotherOriginIsRejected(t *testing.T) {
	r := newRig(t)
	bob := newAccount(t, "bob")
	options, state, _ := r.w.BeginRegistration(bob)
	key := softauthn.New(origin)
	key.WrongOrigin = true
	resp, err := key.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.w.FinishRegistration(bob, state, resp)
	wantErr(t, err, mfa.ErrCredentialRejected)
}

func TestTamperedSignatureIsRejected(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	key.Tamper = true
	_, err := r.login(t, a, key)
	wantErr(t, err, mfa.ErrCredentialRejected)
}

func TestCounterThatDoesNotGoUpMeansACloneAndIsRefused(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	a, err := r.login(t, a, key) // counter 1
	if err != nil {
		t.Fatal(err)
	}
	key.ReplayCounter = true // sends 1 again
	_, err = r.login(t, a, key)
	wantErr(t, err, mfa.ErrClonedAuthenticator)
	var clone *mfa.CloneError
	if !errors.As(err, &clone) || clone.Stored != 1 || clone.Received != 1 || !bytes.Equal(clone.CredentialID, a.Credentials[0].ID) {
		t.Fatalf("clone error %+v", clone)
	}
}

func TestCounterBelowTheStoredColumnIsRefused(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	// The caller's SignCount column is ahead of the JSON copy (the other
	// copy of the key has been used three times): the larger one counts.
	a.Credentials[0].SignCount = 3
	_, err := r.login(t, a, key) // this copy sends 1
	wantErr(t, err, mfa.ErrClonedAuthenticator)
}

func TestExpiredCeremonyIsRejected(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := newAccount(t, "alice")
	options, state, _ := r.w.BeginRegistration(a)
	resp, err := key.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(5*time.Minute + time.Second)
	_, err = r.w.FinishRegistration(a, state, resp)
	wantErr(t, err, mfa.ErrCeremonyExpired)

	a = r.register(t, a, key)
	options, state, _ = r.w.BeginLogin(a)
	resp, _ = key.Login(options)
	r.now = r.now.Add(4 * time.Minute) // still in time
	if _, err := r.w.FinishLogin(a, state, resp); err != nil {
		t.Fatalf("login within the timeout: %v", err)
	}
	options, state, _ = r.w.BeginPasswordless()
	resp, _ = key.Login(options)
	r.now = r.now.Add(5 * time.Minute)
	_, _, err = r.w.FinishPasswordless(state, resp, func(_, _ []byte) (mfa.Account, error) { return a, nil })
	wantErr(t, err, mfa.ErrCeremonyExpired)
}

func TestResponseToAnotherAccountsChallengeIsRejected(t *testing.T) {
	r := newRig(t)
	aliceKey, bobKey := softauthn.New(origin), softauthn.New(origin)
	alice := r.register(t, newAccount(t, "alice"), aliceKey)
	bob := r.register(t, newAccount(t, "bob"), bobKey)

	_, aliceState, _ := r.w.BeginLogin(alice)
	bobOptions, bobState, _ := r.w.BeginLogin(bob)
	bobResp, err := bobKey.Login(bobOptions)
	if err != nil {
		t.Fatal(err)
	}
	// Bob's answer presented in Alice's ceremony, as Alice or as Bob.
	_, err = r.w.FinishLogin(alice, aliceState, bobResp)
	wantErr(t, err, mfa.ErrUnknownCredential)
	_, err = r.w.FinishLogin(bob, aliceState, bobResp)
	wantErr(t, err, mfa.ErrInvalidState)

	// Alice's key answering Bob's challenge, finished in Alice's ceremony:
	// the key is hers, the challenge is not this ceremony's.
	aliceResp, err := aliceKey.Login(bytes.ReplaceAll(bobOptions, []byte(b64(bob.Credentials[0].ID)), []byte(b64(alice.Credentials[0].ID))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.w.FinishLogin(alice, aliceState, aliceResp)
	wantErr(t, err, mfa.ErrCredentialRejected)
	if _, err := r.w.FinishLogin(bob, bobState, bobResp); err != nil {
		t.Fatalf("bob's own ceremony: %v", err)
	}
}

func TestStateOfOneCeremonyCannotFinishAnother(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	_, regState, _ := r.w.BeginRegistration(a)
	loginOptions, loginState, _ := r.w.BeginLogin(a)
	resp, _ := key.Login(loginOptions)
	_, err := r.w.FinishLogin(a, regState, resp)
	wantErr(t, err, mfa.ErrInvalidState)
	_, _, err = r.w.FinishPasswordless(loginState, resp, func(_, _ []byte) (mfa.Account, error) { return a, nil })
	wantErr(t, err, mfa.ErrInvalidState)
	for _, junk := range [][]byte{nil, []byte("{"), []byte(`{"v":1,"k":"login"}`), bytes.Repeat([]byte("x"), 1<<20)} {
		_, err = r.w.FinishLogin(a, junk, resp)
		wantErr(t, err, mfa.ErrInvalidState)
	}
}

func TestGarbageResponsesAreMalformedNotPanics(t *testing.T) {
	r := newRig(t)
	key := softauthn.New(origin)
	a := r.register(t, newAccount(t, "alice"), key)
	_, state, _ := r.w.BeginLogin(a)
	for _, junk := range []string{"", "null", "{}", `{"id":"AA","rawId":"AA","type":"public-key","response":{}}`, strings.Repeat("[", 100000)} {
		_, err := r.w.FinishLogin(a, state, []byte(junk))
		wantErr(t, err, mfa.ErrMalformedResponse)
	}
	_, regState, _ := r.w.BeginRegistration(a)
	_, err := r.w.FinishRegistration(a, regState, []byte(`{"id":"AA"}`))
	wantErr(t, err, mfa.ErrMalformedResponse)
}

func TestAccountsThatCannotUseKeys(t *testing.T) {
	r := newRig(t)
	_, _, err := r.w.BeginLogin(newAccount(t, "alice"))
	wantErr(t, err, mfa.ErrNoCredentials)
	_, _, err = r.w.BeginRegistration(mfa.Account{Handle: make([]byte, 65), Name: "x"})
	wantErr(t, err, mfa.ErrInvalidAccount)
	_, _, err = r.w.BeginRegistration(mfa.Account{Name: "x"})
	wantErr(t, err, mfa.ErrInvalidAccount)
	a := r.register(t, newAccount(t, "alice"), softauthn.New(origin))
	a.Credentials[0].JSON = []byte(`{"id":"bm90IHRoZSBzYW1l"}`)
	_, _, err = r.w.BeginLogin(a)
	wantErr(t, err, mfa.ErrInvalidAccount)
}

func TestNewWebAuthnRefusesIncompleteOrMismatchedConfig(t *testing.T) {
	for _, rp := range []mfa.RelyingParty{
		{Name: "Hesar", Origins: []string{origin}},
		{ID: "desk.example.com", Origins: []string{origin}},
		{ID: "desk.example.com", Name: "Hesar"},
		{ID: "desk.example.com", Name: "Hesar", Origins: []string{"ftp://desk.example.com"}},
		{ID: "desk.example.com", Name: "Hesar", Origins: []string{"https://evil.example"}},
		{ID: "desk.example.com", Name: "Hesar", Origins: []string{"https://notdesk.example.com"}},
		{ID: "127.0.0.1", Name: "Hesar", Origins: []string{"http://127.0.0.1:8080"}},
		{ID: "desk.example.com", Name: "Hesar", Origins: []string{"https://desk.example.com/login"}},
		{ID: "https://desk.example.com", Name: "Hesar", Origins: []string{origin}},
	} {
		if _, err := mfa.NewWebAuthn(rp); err == nil {
			t.Errorf("NewWebAuthn(%+v) succeeded", rp)
		}
	}
	for _, rp := range []mfa.RelyingParty{
		{ID: "localhost", Name: "Hesar", Origins: []string{"http://localhost:8080"}},
		{ID: "example.com", Name: "Hesar", Origins: []string{"https://desk.example.com", "https://example.com:8443"}},
	} {
		if _, err := mfa.NewWebAuthn(rp); err != nil {
			t.Errorf("NewWebAuthn(%+v): %v", rp, err)
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
