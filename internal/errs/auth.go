package errs

import (
	"errors"
	"time"
)

// ErrSignInFailed is the one answer to a failed sign-in, whatever the
// reason (no such account, wrong password, locked, disabled), so that no
// response tells an attacker which accounts exist.
var ErrSignInFailed = errors.New("sign-in failed")

// ErrStepUpRequired means the action is sensitive and the session's last
// proof of identity is too old: confirm the password or a second factor,
// then retry.
var ErrStepUpRequired = errors.New("recent authentication required")

// ErrMFARequired means the session may only finish signing in (second
// factor) or enroll one, as the workspace requires it.
var ErrMFARequired = errors.New("second factor required")

// ErrLinkInvalid means an emailed link is unknown, used or expired; the
// three are one answer.
var ErrLinkInvalid = errors.New("link invalid or expired")

// Throttled means too many recent failures from this address or for this
// account: wait before trying again.
type Throttled struct {
	Wait time.Duration
}

func (t *Throttled) Error() string {
	return "too many attempts; wait " + t.Wait.Round(time.Second).String()
}
