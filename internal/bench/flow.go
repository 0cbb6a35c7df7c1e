package bench

import (
	"context"
	"time"
)

// A Recorder takes the duration of one named step of a login ("authorize",
// "identify", "password", "code", "app", "callback", "token"...).
type Recorder interface {
	Step(name string, d time.Duration)
}

// A Flow performs whole logins against one identity provider, ending in the
// OpenID Connect code exchange. The runner calls Setup once before the clock
// starts, then Login from many goroutines at once.
type Flow interface {
	// Name says what is driven, e.g. "openmitid/app" or "ory/password+totp".
	Name() string
	// Setup makes the users the logins will use (virtual user vu logs in as
	// user vu % users) before the clock starts.
	Setup(ctx context.Context, users int) error
	// Login performs one whole login for virtual user vu and records each
	// step's duration. Errors are counted by kind: return a *KindError.
	Login(ctx context.Context, vu int, rec Recorder) error
}

// A KindError is a failed login with a short kind for the error counts
// ("http_503", "wrong_code", "timeout", "token").
type KindError struct {
	Kind string
	Err  error
}

func (e *KindError) Error() string { return e.Kind + ": " + e.Err.Error() }
func (e *KindError) Unwrap() error { return e.Err }
