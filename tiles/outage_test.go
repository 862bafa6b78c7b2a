package tiles

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
)

// flakyStore fails the reads of a follower the way a database restart
// does: every read while down, or the next reads of chosen entities.
type flakyStore struct {
	atigip.Store
	down     atomic.Bool
	failures atomic.Int64
	mu       sync.Mutex
	failGet  map[int64]int // entity id → reads still to fail
}

func errDown() error {
	return &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "La base de données est momentanément indisponible."}
}

func (f *flakyStore) Changes(ctx context.Context, after int64, limit int) ([]atigip.Change, error) {
	if f.down.Load() {
		f.failures.Add(1)
		return nil, errDown()
	}
	return f.Store.Changes(ctx, after, limit)
}

func (f *flakyStore) Entities(k atigip.Kind) atigip.Entities {
	return flakyEntities{f.Store.Entities(k), f}
}

type flakyEntities struct {
	atigip.Entities
	f *flakyStore
}

func (fe flakyEntities) Get(ctx context.Context, id int64) (atigip.Entity, error) {
	fe.f.mu.Lock()
	fail := fe.f.down.Load() || fe.f.failGet[id] > 0
	if fe.f.failGet[id] > 0 {
		fe.f.failGet[id]--
	}
	fe.f.mu.Unlock()
	if fail {
		fe.f.failures.Add(1)
		return nil, errDown()
	}
	return fe.Entities.Get(ctx, id)
}

// TestFollowRidesOutOutage: a batch whose reads fail half-way is redone
// whole (the first post of the batch is not left applied but undrawn),
// and an outage of the store makes the engine not ready, never stops
// Follow, and the changes made meanwhile show once the store is back.
func TestFollowRidesOutOutage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openDemoStore(t, 0.01)
	fs := &flakyStore{Store: s, failGet: map[int64]int{}}
	e, err := New(ctx, fs, Options{Poll: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if e.Ready() == nil {
		t.Error("ready before Follow read the feed")
	}
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx) }()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			select {
			case err := <-done:
				t.Fatalf("Follow stopped while waiting for %s: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("not %s within 5 s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitUntil("ready", func() bool { return e.Ready() == nil })

	var posts []*atigip.Post
	for _, r := range e.snap.Load().posts[audPublic].leaves {
		p, err := atigip.Of[*atigip.Post](s).Get(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if posts = append(posts, p); len(posts) == 2 {
			break
		}
	}
	if len(posts) < 2 {
		t.Fatal("fewer than two visible posts in the demo set")
	}
	const z = 15
	shows := func(p *atigip.Post) bool {
		tl := maptile.At(orb.Point{p.Location.Lon, p.Location.Lat}, maptile.Zoom(z))
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", z, int(tl.X), int(tl.Y))
		for _, f := range features(layer(ls, LayerPosts)) {
			if fid(f.ID) == uint64(p.ID) && f.Properties["title"] == p.Title {
				return true
			}
		}
		return false
	}
	for _, p := range posts {
		if !shows(p) { // cache the old tiles
			t.Fatalf("post %d not drawn", p.ID)
		}
	}

	// One transaction renames both; reading the second fails once.
	fs.mu.Lock()
	fs.failGet[posts[1].ID] = 1
	fs.mu.Unlock()
	err = s.InTx(ctx, func(tx atigip.Tx) error {
		for i, p := range posts {
			p.Title = "Renommé pendant une panne " + string(rune('A'+i))
			if err := atigip.Of[*atigip.Post](tx).Update(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil("both renames drawn", func() bool { return shows(posts[0]) && shows(posts[1]) })
	if fs.failures.Load() == 0 {
		t.Fatal("the injected read failure never happened")
	}

	// The store goes away; a change committed meanwhile shows once back.
	fs.down.Store(true)
	waitUntil("not ready during the outage", func() bool { return e.Ready() != nil })
	if code := atigip.ErrorCode(e.Ready()); code != atigip.EUNAVAILABLE {
		t.Errorf("Ready during the outage = %v, want code %s", e.Ready(), atigip.EUNAVAILABLE)
	}
	posts[0].Title = "Renommé pendant la coupure"
	if err := atigip.Of[*atigip.Post](s).Update(ctx, posts[0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // several failed retries
	if shows(posts[0]) {
		t.Fatal("change drawn while the store was down")
	}
	fs.down.Store(false)
	waitUntil("ready after the outage", func() bool { return e.Ready() == nil })
	waitUntil("the change made during the outage drawn", func() bool { return shows(posts[0]) })
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Follow returned %v, want context.Canceled", err)
	}
}

// TestFollowerBehindPrunedFeedRebuilds: an engine that stands before the
// pruned part of the change feed cannot replay it; Follow rebuilds it from
// the store, so a change whose feed entry is gone still shows.
func TestFollowerBehindPrunedFeedRebuilds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openDemoStore(t, 0.01)
	pruner, ok := s.(atigip.FeedPruner)
	if !ok {
		t.Fatal("the SQLite store does not prune its feed")
	}
	e, err := New(ctx, s, Options{Poll: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var post *atigip.Post
	for _, r := range e.snap.Load().posts[audPublic].leaves {
		if post, err = atigip.Of[*atigip.Post](s).Get(ctx, r.id); err != nil {
			t.Fatal(err)
		}
		break
	}
	tl := maptile.At(orb.Point{post.Location.Lon, post.Location.Lat}, maptile.Zoom(15))
	shows := func(title string) bool {
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", 15, int(tl.X), int(tl.Y))
		for _, f := range features(layer(ls, LayerPosts)) {
			if fid(f.ID) == uint64(post.ID) && f.Properties["title"] == title {
				return true
			}
		}
		return false
	}
	if !shows(post.Title) {
		t.Fatal("post not drawn")
	}
	// While the engine does not follow, the post is renamed, more changes
	// come, and the feed is pruned up to its newest change.
	post.Title = "Renommé hors du journal des modifications"
	if err := atigip.Of[*atigip.Post](s).Update(ctx, post); err != nil {
		t.Fatal(err)
	}
	other := *post
	other.ID, other.Version, other.Title = 0, 0, "Autre poste"
	if err := atigip.Of[*atigip.Post](s).Entities.Create(ctx, &other); err != nil {
		t.Fatal(err)
	}
	if n, err := pruner.PruneChanges(ctx, time.Now().Add(time.Hour), time.Now()); err != nil || n == 0 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if h, _ := pruner.PrunedSeq(ctx); h <= e.Seq() {
		t.Fatalf("the feed was not pruned past the engine (%d <= %d)", h, e.Seq())
	}
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !shows(post.Title) {
		if time.Now().After(deadline) {
			t.Fatal("the rename, whose feed entry was pruned, never showed: the engine did not rebuild")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Follow returned %v", err)
	}
}
