package storetest

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

func testSessions(t *testing.T, st atigip.Store) {
	s, ok := st.(atigip.SessionStore)
	if !ok {
		t.Skip("store without sessions")
	}
	Sessions(t, s)
}

// Sessions is the conformance suite of an atigip.SessionStore, fresh and
// empty: sessions are kept whole, read within their lifetime and idle
// limits only, touched forward only, deleted; a pending sign-in is taken
// once, even by racing takers, and not after it expired; pruning deletes
// exactly what is past its limits.
func Sessions(t *testing.T, s atigip.SessionStore) {
	ctx := t.Context()
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	p := atigip.Principal{Subject: "oidc:abc", Role: atigip.RoleCPIP, Name: "Camille Martin", Departement: "69"}
	a := atigip.BrowserSession{Key: "digest-a", Principal: p, Provider: "proconnect", IDToken: "id.token.a",
		Created: t0, Seen: t0}
	must(t, s.CreateSession(ctx, a))
	wantCode(t, s.CreateSession(ctx, a), atigip.ECONFLICT)

	live := func(key string, at time.Time) (atigip.BrowserSession, error) {
		// The limits of a session of 8 h and 30 min idle, seen at `at`.
		return s.Session(ctx, key, at.Add(-8*time.Hour), at.Add(-30*time.Minute))
	}
	t.Run("read", func(t *testing.T) {
		got, err := live("digest-a", t0.Add(time.Minute))
		must(t, err)
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("read %+v, want %+v", got, a)
		}
		_, err = live("digest-unknown", t0)
		wantCode(t, err, atigip.ENOTFOUND)
	})
	t.Run("idle expiry and touch", func(t *testing.T) {
		_, err := live("digest-a", t0.Add(31*time.Minute))
		wantCode(t, err, atigip.ENOTFOUND)
		must(t, s.TouchSession(ctx, "digest-a", t0.Add(20*time.Minute)))
		got, err := live("digest-a", t0.Add(31*time.Minute))
		must(t, err)
		if !got.Seen.Equal(t0.Add(20*time.Minute)) || !got.Created.Equal(t0) {
			t.Fatalf("after touch: created %v seen %v", got.Created, got.Seen)
		}
		must(t, s.TouchSession(ctx, "digest-a", t0.Add(5*time.Minute))) // a late writer does not move it back
		if got, err := live("digest-a", t0.Add(31*time.Minute)); err != nil || !got.Seen.Equal(t0.Add(20*time.Minute)) {
			t.Fatalf("touch moved seen back: %+v, %v", got, err)
		}
		must(t, s.TouchSession(ctx, "digest-unknown", t0)) // nothing to touch is not an error
	})
	t.Run("lifetime expiry", func(t *testing.T) {
		must(t, s.TouchSession(ctx, "digest-a", t0.Add(8*time.Hour)))
		_, err := live("digest-a", t0.Add(8*time.Hour+time.Minute))
		wantCode(t, err, atigip.ENOTFOUND)
	})
	t.Run("delete", func(t *testing.T) {
		b := atigip.BrowserSession{Key: "digest-b", Principal: p, Created: t0, Seen: t0}
		must(t, s.CreateSession(ctx, b))
		must(t, s.DeleteSession(ctx, "digest-b"))
		_, err := live("digest-b", t0)
		wantCode(t, err, atigip.ENOTFOUND)
		must(t, s.DeleteSession(ctx, "digest-b"))
	})
	t.Run("pending taken once", func(t *testing.T) {
		pe := atigip.PendingSignIn{Key: "state-1", Provider: "franceconnect", Nonce: "n", Verifier: "v",
			Return: "/ma-mesure", Expires: t0.Add(10 * time.Minute)}
		must(t, s.CreatePending(ctx, pe))
		wantCode(t, s.CreatePending(ctx, pe), atigip.ECONFLICT)
		var won atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.TakePending(ctx, "state-1", t0)
				switch {
				case err == nil && reflect.DeepEqual(got, pe):
					won.Add(1)
				case err == nil:
					errs <- &atigip.Error{Code: atigip.EINTERNAL, Message: "pending read back differs"}
				case atigip.ErrorCode(err) != atigip.ENOTFOUND:
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("take: %v", err)
		}
		if won.Load() != 1 {
			t.Fatalf("%d takers got the pending sign-in, want 1", won.Load())
		}
		late := atigip.PendingSignIn{Key: "state-2", Provider: "proconnect", Nonce: "n", Verifier: "v", Expires: t0.Add(time.Minute)}
		must(t, s.CreatePending(ctx, late))
		_, err := s.TakePending(ctx, "state-2", t0.Add(2*time.Minute))
		wantCode(t, err, atigip.ENOTFOUND)
	})
	t.Run("prune", func(t *testing.T) {
		now := t0.Add(time.Hour)
		for _, x := range []atigip.BrowserSession{
			{Key: "old", Principal: p, Created: now.Add(-9 * time.Hour), Seen: now.Add(-time.Minute)},
			{Key: "idle", Principal: p, Created: now.Add(-time.Hour), Seen: now.Add(-31 * time.Minute)},
			{Key: "fresh", Principal: p, Created: now.Add(-time.Hour), Seen: now.Add(-time.Minute)},
		} {
			must(t, s.CreateSession(ctx, x))
		}
		must(t, s.CreatePending(ctx, atigip.PendingSignIn{Key: "gone", Provider: "p", Expires: now.Add(-time.Second)}))
		must(t, s.CreatePending(ctx, atigip.PendingSignIn{Key: "open", Provider: "p", Expires: now.Add(time.Minute)}))
		// digest-a (created at t0, touched to t0+8h) is live at now: kept.
		n, err := s.PruneSessions(ctx, now.Add(-8*time.Hour), now.Add(-30*time.Minute), now)
		must(t, err)
		if n != 3 {
			t.Fatalf("pruned %d, want 3 (old, idle, gone)", n)
		}
		// Read with no limits: only what pruning must keep is left.
		for key, want := range map[string]bool{"old": false, "idle": false, "fresh": true, "digest-a": true} {
			_, err := s.Session(ctx, key, time.Time{}, time.Time{})
			if (err == nil) != want {
				t.Fatalf("after pruning, session %s: %v, want kept=%v", key, err, want)
			}
		}
		if _, err := s.TakePending(ctx, "open", now); err != nil {
			t.Fatalf("pruning took an open pending sign-in: %v", err)
		}
	})
}
