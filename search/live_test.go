package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/atigip/atigip360/internal/atigip"
)

func searchTotal(tb testing.TB, ix *Index, q string) uint64 {
	tb.Helper()
	res, err := ix.Search(context.Background(), Request{Query: q, Role: atigip.RoleCPIP})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Total
}

// TestFollowWithinOneSecond creates, renames and deletes entities while
// the index follows the store, and requires each change to be searchable
// within one second.
func TestFollowWithinOneSecond(t *testing.T) {
	db, ids := handStore(t)
	ix, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ix.Follow(ctx, db) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	}()

	within := func(what, q string, want uint64) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for {
			if searchTotal(t, ix, q) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q not at %d hits within 1 s", what, q, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	within("initial build", "écurie", 1)

	posts := atigip.Of[*atigip.Post](db)
	p, err := posts.Get(ctx, ids["massifs"])
	if err != nil {
		t.Fatal(err)
	}
	p.Title = "Entretien des massifs de zinnias"
	if err := posts.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	within("update", "zinnias", 1)

	orgs := atigip.Of[*atigip.Organisation](db)
	o, err := orgs.Get(ctx, p.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	o.Name = "Ville de Rennes, direction des jardins xérophytes"
	if err := orgs.Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	// The organisation and its six posts show the new name.
	within("parent renamed", "xerophytes", 7)

	if err := db.Entities(atigip.KindPost).Delete(ctx, p.ID, p.Version); err != nil {
		t.Fatal(err)
	}
	within("delete", "zinnias", 0)
}

// TestRestartCatchesUp closes a built index, changes the store, reopens:
// the index must apply just the changes, not rebuild.
func TestRestartCatchesUp(t *testing.T) {
	db := openStore(t, testScale)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	ix := builtIndex(t, db, dir)
	total, err := ix.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	posts := atigip.Of[*atigip.Post](db)
	some, _, err := posts.List(ctx, atigip.ListFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range some {
		p.Description += []string{" Ramassage des feuilles mortes quinconces.", " Arrosage des quinconces."}[i]
		if err := posts.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	ix, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NeedsRebuild() {
		t.Fatalf("reopened index needs a rebuild: %s", ix.RebuildReason())
	}
	n, err := ix.CatchUp(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || ix.Written() != 2 {
		t.Errorf("catch-up wrote %d documents (Written %d), want just the 2 changed of %d", n, ix.Written(), total)
	}
	if got := searchTotal(t, ix, "quinconces"); got != 2 {
		t.Errorf("changed posts found %d times, want 2", got)
	}
	if got, _ := ix.DocCount(); got != total {
		t.Errorf("DocCount = %d after catch-up, want %d", got, total)
	}
	// The filter table is loaded from the store, then follows the changes:
	// it answers as bleve does (see sameAsBleve).
	for _, r := range []Request{{Types: []Type{TypePost}, Sort: SortDate}, {Role: atigip.RoleCPIP, Departement: some[0].Address.Departement},
		{Near: &some[1].Location, RadiusKm: 30, Sort: SortDistance, Role: atigip.RoleMagistrate}} {
		sameAsBleve(t, fmt.Sprint(r), ix, r, int(total))
	}
}

// TestUntrustedIndexRebuilt damages a built index in several ways: each
// must be detected at Open and rebuilt by CatchUp.
func TestUntrustedIndexRebuilt(t *testing.T) {
	db, _ := handStore(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"older mapping version", func(t *testing.T, dir string) {
			idx, err := bleve.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := idx.SetInternal(keyVersion, []byte("atigip-search-0")); err != nil {
				t.Fatal(err)
			}
			idx.Close()
		}},
		{"unfinished first build", func(t *testing.T, dir string) {
			idx, err := bleve.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := idx.DeleteInternal(keySeq); err != nil {
				t.Fatal(err)
			}
			idx.Close()
		}},
		{"corrupt metadata", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"corrupt store", func(t *testing.T, dir string) {
			root := filepath.Join(dir, "store", "root.bolt")
			if err := os.WriteFile(root, []byte("not a bolt database at all"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			ix := builtIndex(t, db, dir)
			want, _ := ix.DocCount()
			ix.Close()
			tt.damage(t, dir)

			ix, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if !ix.NeedsRebuild() || ix.RebuildReason() == "" {
				t.Fatalf("damaged index trusted (reason %q)", ix.RebuildReason())
			}
			if n, err := ix.CatchUp(ctx, db); err != nil || uint64(n) != want {
				t.Fatalf("CatchUp = %d, %v; want a rebuild of %d documents", n, err, want)
			}
			if got, _ := ix.DocCount(); got != want {
				t.Errorf("DocCount = %d, want %d", got, want)
			}
			if searchTotal(t, ix, "écurie") != 1 {
				t.Error("rebuilt index does not answer")
			}
			ix.Close()
			// The rebuilt index is now trusted as is.
			again, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if again.NeedsRebuild() {
				t.Errorf("rebuilt index not trusted on reopen: %s", again.RebuildReason())
			}
		})
	}
}

// TestBrowseCache checks that a request without text is answered from the
// cache until the index changes, and afresh after.
func TestBrowseCache(t *testing.T) {
	db, ids := handStore(t)
	ix := builtIndex(t, db, "")
	ctx := context.Background()
	r := Request{Types: []Type{TypePost}, Departement: "35", Role: atigip.RoleCPIP}
	first, err := ix.Search(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.browse.get(mustBrowseKey(t, r), ix.written.Load()); !ok {
		t.Fatal("a request without text is not cached")
	}
	again, err := ix.Search(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if again.Total != first.Total || len(again.Hits) != len(first.Hits) {
		t.Fatalf("cached answer %d hits, first %d", again.Total, first.Total)
	}
	p, err := atigip.Of[*atigip.Post](db).Get(ctx, ids["massifs"])
	if err != nil {
		t.Fatal(err)
	}
	p.ID = 0
	p.Title = "Entretien des massifs, bis"
	if err := db.Entities(atigip.KindPost).Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.CatchUp(ctx, db); err != nil {
		t.Fatal(err)
	}
	after, err := ix.Search(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != first.Total+1 {
		t.Errorf("after a new post: %d hits, want %d", after.Total, first.Total+1)
	}
	if _, cached := browseKey(&Request{Query: "massifs"}, parsedQuery{words: []string{"massifs"}}); cached {
		t.Error("a text query is cached")
	}
}

func mustBrowseKey(t *testing.T, r Request) string {
	t.Helper()
	pq, err := r.normalize()
	if err != nil {
		t.Fatal(err)
	}
	k, ok := browseKey(&r, pq)
	if !ok {
		t.Fatal("not cacheable")
	}
	return k
}
