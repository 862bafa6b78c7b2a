package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/storetest"
)

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atigip.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("fresh file schema version = %d, %v; want 0", v, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := storetest.Sample(atigip.KindPost, 0).(*atigip.Post)
	if err := atigip.Of[*atigip.Post](db).Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCursor(ctx, "crm", "12"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() || v < 1 {
		t.Fatalf("reopened schema version = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := atigip.Of[*atigip.Post](db).Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != p.Title || got.Version != 1 || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("reopened post = %+v, want %+v", got.Meta, p.Meta)
	}
	if v, _ := db.Cursor(ctx, "crm"); v != "12" {
		t.Errorf("reopened cursor = %q", v)
	}
	if n, _ := db.LastSeq(ctx); n != 1 {
		t.Errorf("reopened last seq = %d, want 1", n)
	}
	var applied int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); applied != len(ms) {
		t.Errorf("%d migrations recorded, %d embedded", applied, len(ms))
	}
	var mode string
	if err := db.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode = %q, %v; want wal", mode, err)
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d: versions run 1, 2, 3… without gaps", m.name, m.version, i+1)
		}
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory", "x.db?_txlock=deferred"} {
		if db, err := Open(t.Context(), p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestCodedErrors(t *testing.T) {
	db := openTB(t)
	ctx := t.Context()
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"unknown kind get", func() error { _, err := db.Entities("cats").Get(ctx, 1); return err }(), atigip.EINVALID},
		{"unknown kind create", db.Entities("cats").Create(ctx, storetest.Sample(atigip.KindPost, 0)), atigip.EINVALID},
		{"wrong kind", db.Entities(atigip.KindPrison).Create(ctx, storetest.Sample(atigip.KindPost, 0)), atigip.EINVALID},
		{"bad rome filter", func() error {
			_, _, err := db.Entities(atigip.KindPost).List(ctx, atigip.ListFilter{ROME: "Z12"})
			return err
		}(), atigip.EINVALID},
		{"missing", db.Entities(atigip.KindPost).Delete(ctx, 42, 1), atigip.ENOTFOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := atigip.ErrorCode(c.err); got != c.code {
				t.Errorf("code = %q, want %q (%v)", got, c.code, c.err)
			}
		})
	}

	p := storetest.Sample(atigip.KindPost, 0)
	if err := db.Entities(atigip.KindPost).Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	err := db.Entities(atigip.KindPost).Update(ctx, withVersion(storetest.Sample(atigip.KindPost, 1), p.GetMeta().ID, 7))
	if atigip.ErrorMessage(err) != msgStale {
		t.Errorf("stale message = %q", atigip.ErrorMessage(err))
	}
	// A batch error names the item at fault.
	batch := []atigip.Entity{storetest.Sample(atigip.KindPost, 2), storetest.Sample(atigip.KindPost, 3)}
	batch[1].(*atigip.Post).Places = 0
	err = db.Entities(atigip.KindPost).CreateMany(ctx, batch)
	if want := "Élément n° 2 du lot : Poste de TIG invalide."; atigip.ErrorMessage(err) != want {
		t.Errorf("batch message = %q, want %q", atigip.ErrorMessage(err), want)
	}
	// A cancelled context is no coded error but still fails cleanly.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Entities(atigip.KindPost).Get(cctx, p.GetMeta().ID); !errors.Is(err, context.Canceled) {
		t.Errorf("get with a cancelled context = %v", err)
	}
}

func withVersion(e atigip.Entity, id, version int64) atigip.Entity {
	*e.GetMeta() = atigip.Meta{ID: id, Version: version}
	return e
}

// Two handles on one file stand for two processes (`atigip seed` while the
// server runs): writes serialize through the file lock and a follower of
// one handle sees the other's changes by polling.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := t.Context()
	a := openTB(t)
	b, err := Open(ctx, a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	fctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	var seen []atigip.Change
	done := make(chan error, 1)
	go func() {
		done <- atigip.Follow(fctx, a, 0, 50, 10*time.Millisecond, func(cs []atigip.Change) error {
			mu.Lock()
			seen = append(seen, cs...)
			mu.Unlock()
			return nil
		})
	}()

	var wg sync.WaitGroup
	for i, db := range []*DB{a, b} {
		wg.Go(func() {
			for j := range 20 {
				if err := db.Entities(atigip.KindPost).Create(ctx, storetest.Sample(atigip.KindPost, i*100+j)); err != nil {
					t.Errorf("handle %d create: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower saw %d of 40 changes", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	for i := 1; i < len(seen); i++ {
		if seen[i].Seq != seen[i-1].Seq+1 {
			t.Fatalf("seq %d after %d", seen[i].Seq, seen[i-1].Seq)
		}
	}
}

// A write through the DB from inside InTx would wait for itself: it fails
// with EUNAVAILABLE after the writer wait instead of hanging.
func TestWriteInsideInTxFails(t *testing.T) {
	db := openTB(t)
	db.writeWait = 50 * time.Millisecond
	ctx := t.Context()
	var inner error
	err := db.InTx(ctx, func(tx atigip.Tx) error {
		if err := tx.SetCursor(ctx, "a", "1"); err != nil {
			return err
		}
		inner = db.SetCursor(ctx, "b", "2")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if atigip.ErrorCode(inner) != atigip.EUNAVAILABLE {
		t.Errorf("write through the DB inside InTx = %v, want %s", inner, atigip.EUNAVAILABLE)
	}
	if v, _ := db.Cursor(ctx, "a"); v != "1" {
		t.Errorf("the transaction's own write was lost: %q", v)
	}
	if v, _ := db.Cursor(ctx, "b"); v != "" {
		t.Errorf("the refused write was kept: %q", v)
	}
}
