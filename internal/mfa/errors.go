package mfa

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
)

// The errors a WebAuthn ceremony ends with when the client, the authenticator
// or the stored state is at fault. Each one's text is safe to show a user;
// the web and API layers map all of them to 400. Any other error a method
// returns (a failing random source, a failing lookup) is a server fault.
//
// Test with errors.Is: the returned error wraps one of these and, for the
// logs only, the library's reason (see LogDetail).
var (
	// ErrInvalidState means the ceremony state is unreadable, belongs to
	// another kind of ceremony, or was begun for another account.
	ErrInvalidState = errors.New("this security key request is not valid; please start again")

	// ErrCeremonyExpired means the state is older than the ceremony timeout.
	ErrCeremonyExpired = errors.New("this security key request has expired; please start again")

	// ErrMalformedResponse means the browser's response could not be read.
	ErrMalformedResponse = errors.New("the security key response could not be read")

	// ErrCredentialRejected means the response was read but did not verify:
	// wrong origin, wrong challenge, bad signature, missing user presence or
	// verification, and the like.
	ErrCredentialRejected = errors.New("the security key response was rejected")

	// ErrUnknownCredential means the credential used is not one of the
	// account's (or, for a passwordless sign-in, belongs to no account).
	ErrUnknownCredential = errors.New("this security key is not registered for the account")

	// ErrCredentialExists means a registration produced a credential the
	// account already has.
	ErrCredentialExists = errors.New("this security key is already registered")

	// ErrClonedAuthenticator means the authenticator's signature counter did
	// not go up: two copies of the key may exist. The sign-in is refused; the
	// returned error is a *CloneError naming the credential, worth an alert.
	ErrClonedAuthenticator = errors.New("this security key may have been copied and was refused")

	// ErrNoCredentials means a second-factor sign-in was begun for an account
	// that has no security keys.
	ErrNoCredentials = errors.New("the account has no security keys")

	// ErrInvalidAccount means the Account is unusable: no handle, a handle
	// longer than 64 bytes, no name, or a stored credential that does not
	// decode. The last one is a storage fault, so callers may prefer a 500.
	ErrInvalidAccount = errors.New("the account cannot use security keys")
)

// rejection pairs a public sentinel with the private reason. Error() shows
// only the sentinel, so handing err.Error() to a user leaks nothing.
type rejection struct {
	kind  error
	cause error
}

func (r *rejection) Error() string { return r.kind.Error() }

func (r *rejection) Unwrap() []error {
	if r.cause == nil {
		return []error{r.kind}
	}
	return []error{r.kind, r.cause}
}

func reject(kind, cause error) error { return &rejection{kind: kind, cause: cause} }

// CloneError is returned when an assertion's signature counter is not above
// the stored one. errors.Is(err, ErrClonedAuthenticator) holds for it.
type CloneError struct {
	CredentialID []byte
	Stored       uint32 // the counter the server had
	Received     uint32 // the counter the authenticator sent
}

func (e *CloneError) Error() string { return ErrClonedAuthenticator.Error() }

// Is makes errors.Is(err, ErrClonedAuthenticator) true.
func (e *CloneError) Is(target error) bool { return target == ErrClonedAuthenticator }

// LogDetail returns the reason behind a ceremony error for a log line: the
// WebAuthn library's error type, details and developer info. It carries no
// key material, only protocol facts (e.g. the origin that did not match).
func LogDetail(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	var pe *protocol.Error
	if errors.As(err, &pe) {
		parts = append(parts, pe.Type, pe.Details)
		if pe.DevInfo != "" {
			parts = append(parts, pe.DevInfo)
		}
	}
	var ce *CloneError
	if errors.As(err, &ce) {
		parts = append(parts, fmt.Sprintf("sign count %d after %d", ce.Received, ce.Stored))
	}
	var r *rejection
	if len(parts) == 0 && errors.As(err, &r) && r.cause != nil {
		parts = append(parts, r.cause.Error())
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, ": ")
}
