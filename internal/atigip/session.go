package atigip

import (
	"context"
	"time"
)

// BrowserSession is a signed-in browser as a store keeps it. Key is a
// digest of the cookie's id, never the id itself, so that reading the
// table does not let anyone take a session over.
type BrowserSession struct {
	Key       string
	Principal Principal
	// Provider and IDToken serve the provider's logout.
	Provider, IDToken string
	Created, Seen     time.Time
}

// PendingSignIn is an OpenID Connect sign-in between the redirect to the
// provider and its callback. Key is a digest of its state.
type PendingSignIn struct {
	Key                       string
	Provider, Nonce, Verifier string
	// Return is the page of this site to come back to.
	Return  string
	Expires time.Time
}

// SessionStore keeps browser sessions and pending sign-ins where every
// instance sees them, so that a sign-in or sign-out on one instance holds
// on all of them and survives restarts. Times are kept to the
// microsecond.
type SessionStore interface {
	// CreateSession stores s (ECONFLICT if its key exists).
	CreateSession(ctx context.Context, s BrowserSession) error
	// Session returns the session of key if it was created after
	// createdAfter and last seen after seenAfter (its lifetime and idle
	// limits), else ENOTFOUND.
	Session(ctx context.Context, key string, createdAfter, seenAfter time.Time) (BrowserSession, error)
	// TouchSession records a use of the session at seen; it never moves
	// Seen back.
	TouchSession(ctx context.Context, key string, seen time.Time) error
	// DeleteSession ends the session of key (none is not an error).
	DeleteSession(ctx context.Context, key string) error
	// CreatePending stores p (ECONFLICT if its key exists).
	CreatePending(ctx context.Context, p PendingSignIn) error
	// TakePending deletes the pending sign-in of key and returns it if it
	// had not expired at now, else ENOTFOUND: of concurrent calls, on any
	// instance, one at most gets it.
	TakePending(ctx context.Context, key string, now time.Time) (PendingSignIn, error)
	// PruneSessions deletes the sessions created before createdBefore or
	// last seen before seenBefore, and the pending sign-ins expired at
	// now. It returns how many it deleted.
	PruneSessions(ctx context.Context, createdBefore, seenBefore, now time.Time) (int64, error)
}

// SessionGone is the ENOTFOUND of a session or pending sign-in that is
// unknown, expired or already used.
func SessionGone() error {
	return Errorf(ENOTFOUND, "Session inconnue, expirée ou déjà utilisée : reconnectez-vous.")
}
