package seed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

var today = atigip.DateOf(time.Now()).Time

// storeHash hashes every stored entity without its timestamps: two stores
// seeded alike from empty hold the same IDs, so the same hash.
func storeHash(t *testing.T, s atigip.Store) string {
	t.Helper()
	h := sha256.New()
	for _, k := range atigip.Kinds {
		err := s.Entities(k).Scan(context.Background(), atigip.ListFilter{}, func(e atigip.Entity) error {
			m := e.GetMeta()
			m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}
			b, err := json.Marshal(e)
			h.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestRunSQLite(t *testing.T) {
	ctx := context.Background()
	db := seedtest.Empty(t)
	seeded, err := seed.IsSeeded(ctx, db)
	if err != nil || seeded {
		t.Fatalf("empty store: seeded %v, %v", seeded, err)
	}
	last := map[string]seed.Progress{}
	rep, err := seed.Run(ctx, db, seed.Options{Scale: 0.05, Seed: 3, Now: today, BatchSize: 500,
		Progress: func(p seed.Progress) { last[p.Phase] = p }})
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"generate", "insert"} {
		if p := last[phase]; p.Total == 0 || p.Done != p.Total {
			t.Errorf("last %s progress %+v, want all done", phase, p)
		}
	}
	if !strings.Contains(rep.String(), "176 établissements pénitentiaires") {
		t.Errorf("report %q", rep.String())
	}
	t.Run("counts", func(t *testing.T) {
		for _, k := range atigip.Kinds {
			_, total, err := db.Entities(k).List(ctx, atigip.ListFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if total != rep.Counts[k] || total == 0 {
				t.Errorf("%s: %d stored, report says %d", k, total, rep.Counts[k])
			}
		}
	})
	t.Run("references resolved", func(t *testing.T) {
		measures, err := atigip.Of[*atigip.Measure](db).All(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureInProgress)}})
		if err != nil || len(measures) == 0 {
			t.Fatalf("%d measures in progress, %v", len(measures), err)
		}
		for _, m := range measures[:min(20, len(measures))] {
			person, err := atigip.Of[*atigip.Person](db).Get(ctx, m.PersonID)
			if err != nil || person.Detained {
				t.Errorf("measure %d: person %d: %v", m.ID, m.PersonID, err)
			}
			post, err := atigip.Of[*atigip.Post](db).Get(ctx, m.PostID)
			if err != nil || post.PlacesTaken == 0 {
				t.Errorf("measure %d: post %d: %v", m.ID, m.PostID, err)
			}
			if _, err := atigip.Of[*atigip.Organisation](db).Get(ctx, post.OrganisationID); err != nil {
				t.Errorf("post %d: organisation %d: %v", post.ID, post.OrganisationID, err)
			}
		}
	})
	t.Run("posts around Lyon", func(t *testing.T) {
		posts, total, err := atigip.Of[*atigip.Post](db).List(ctx, atigip.ListFilter{Departement: "69", PublicOnly: true, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		lyon := atigip.Point{Lon: 4.835, Lat: 45.758}
		near := 0
		for _, p := range posts {
			if atigip.DistanceKm(lyon, p.Location) < 25 {
				near++
			}
		}
		if total < 10 || near < 5 {
			t.Errorf("%d public posts in the Rhône, %d near Lyon", total, near)
		}
	})
	t.Run("refuses a second run", func(t *testing.T) {
		_, err := seed.Run(ctx, db, seed.Options{Scale: 0.01, Seed: 4, Now: today})
		if !errors.Is(err, seed.ErrNotEmpty) || atigip.ErrorCode(err) != atigip.ECONFLICT {
			t.Errorf("second run: %v, want ErrNotEmpty", err)
		}
		if seeded, err := seed.IsSeeded(ctx, db); err != nil || !seeded {
			t.Errorf("IsSeeded = %v, %v", seeded, err)
		}
	})
	t.Run("force adds a set with another seed", func(t *testing.T) {
		rep2, err := seed.Run(ctx, db, seed.Options{Scale: 0.01, Seed: 5, Now: today, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		_, total, err := db.Entities(atigip.KindPrison).List(ctx, atigip.ListFilter{Limit: 1})
		if err != nil || total != rep.Counts[atigip.KindPrison]+rep2.Counts[atigip.KindPrison] {
			t.Errorf("%d prisons after forcing, %v", total, err)
		}
	})
}

func TestRunDeterministicInStore(t *testing.T) {
	ctx := context.Background()
	opts := seed.Options{Scale: 0.01, Seed: 11, Now: today}
	a, b := seedtest.Empty(t), seedtest.Empty(t)
	for _, db := range []atigip.Store{a, b} {
		if _, err := seed.Run(ctx, db, opts); err != nil {
			t.Fatal(err)
		}
	}
	if ha, hb := storeHash(t, a), storeHash(t, b); ha != hb {
		t.Errorf("same options, different stores: %s vs %s", ha, hb)
	}
}

// failLast fails the insertion of the last kind (applications), after
// every other kind went in.
type failLast struct{ atigip.Store }

type failLastTx struct{ atigip.Tx }

type failingEntities struct{ atigip.Entities }

var errDiskFull = errors.New("disk full")

func (f failLast) InTx(ctx context.Context, fn func(atigip.Tx) error) error {
	return f.Store.InTx(ctx, func(tx atigip.Tx) error { return fn(failLastTx{tx}) })
}

func (f failLastTx) Entities(k atigip.Kind) atigip.Entities {
	if k == atigip.KindApplication {
		return failingEntities{f.Tx.Entities(k)}
	}
	return f.Tx.Entities(k)
}

func (failingEntities) CreateMany(context.Context, []atigip.Entity) error { return errDiskFull }

func TestRunIsAtomic(t *testing.T) {
	ctx := context.Background()
	db := seedtest.Empty(t)
	_, err := seed.Run(ctx, failLast{db}, seed.Options{Scale: 0.01, Seed: 1, Now: today})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("run: %v, want the insertion error", err)
	}
	// The whole data set is one transaction: nothing is left behind.
	if seeded, err := seed.IsSeeded(ctx, db); err != nil || seeded {
		t.Errorf("after a failed run: seeded %v, %v", seeded, err)
	}
}
