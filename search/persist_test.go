package search

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// tableValues is the table's rows in its order, each with its filter
// values by name, to compare two tables whatever slots and term numbers
// they gave the same documents.
func tableValues(t *testing.T, ix *Index) []string {
	t.Helper()
	tb := ix.table
	tb.mu.RLock()
	defer tb.mu.RUnlock()
	if !tb.ready {
		t.Fatal("filter table not loaded")
	}
	out := make([]string, len(tb.order))
	for i, s := range tb.order {
		var names []string
		for n, b := range tb.dense {
			if b != nil && b.has(s) {
				names = append(names, tb.names[n])
			}
		}
		for _, n := range tb.terms[s] {
			names = append(names, tb.names[n])
			// The slot lists a request reads must agree with the row.
			if _, in := slices.BinarySearch(tb.sparse[n], s); tb.dense[n] != nil || !in {
				t.Errorf("slot %d carries %s but its slot list lacks it", s, tb.names[n])
			}
		}
		slices.Sort(names)
		b, err := json.Marshal(struct {
			ID       string
			Date     int64
			Lon, Lat float64
			Located  bool
			Hit      Hit
			Terms    []string
		}{string(tb.rowID(nil, s)), tb.dates[s], tb.lon[s], tb.lat[s], tb.located.has(s), tb.rows[s].hit(tb.pool), names})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// changePosts renames one post and deletes another.
func changePosts(t *testing.T, db atigip.Store) {
	t.Helper()
	ctx := context.Background()
	posts := atigip.Of[*atigip.Post](db)
	some, _, err := posts.List(ctx, atigip.ListFilter{Limit: 2})
	if err != nil || len(some) < 2 {
		t.Fatalf("posts: %v", err)
	}
	some[0].Title, some[0].MinorsAccepted = "Poste renommé après la sauvegarde", !some[0].MinorsAccepted
	if err := posts.Update(ctx, some[0]); err != nil {
		t.Fatal(err)
	}
	if err := posts.Entities.Delete(ctx, some[1].ID, some[1].Version); err != nil {
		t.Fatal(err)
	}
}

// TestResumedTableEqualsRebuilt: an index reopened with its saved filter
// table, caught up with the changes since, answers from the same table as
// an index built from the store; a table saved before the feed's pruned
// horizon is left for a scan of the store.
func TestResumedTableEqualsRebuilt(t *testing.T) {
	for _, pruned := range []bool{false, true} {
		name := map[bool]string{false: "resumed", true: "feed pruned past the saved table"}[pruned]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t, testScale)
			dir := filepath.Join(t.TempDir(), "index")
			ix := builtIndex(t, db, dir)
			if err := ix.SaveTable(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			changePosts(t, db)
			if pruned {
				if _, err := db.PruneChanges(ctx, time.Now().Add(time.Hour), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			again, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if _, err := again.CatchUp(ctx, db); err != nil {
				t.Fatal(err)
			}
			if again.TableResumed() == pruned {
				t.Fatalf("TableResumed = %v with the feed pruned = %v", again.TableResumed(), pruned)
			}
			fresh := builtIndex(t, db, "")
			if again.Seq() != fresh.Seq() {
				t.Fatalf("seq %d after catch-up, %d rebuilt", again.Seq(), fresh.Seq())
			}
			if got, want := tableValues(t, again), tableValues(t, fresh); !reflect.DeepEqual(got, want) {
				for i := range got {
					if i < len(want) && got[i] != want[i] {
						t.Fatalf("filter table after restart differs from the rebuilt one at row %d:\n%s\nwant\n%s", i, got[i], want[i])
					}
				}
				t.Fatalf("filter table after restart differs from the rebuilt one (%d rows, want %d)", len(got), len(want))
			}
			n, _ := fresh.DocCount()
			for _, r := range []Request{{Types: []Type{TypePost}, Sort: SortDate}, {Role: atigip.RoleCPIP, Minors: new(true)}} {
				sameAsBleve(t, name, again, r, int(n))
			}
		})
	}
}
