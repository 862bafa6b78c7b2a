package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/store/storetest"
)

// open returns a store on a throwaway schema, closed when t ends.
func open(t testing.TB) *DB {
	t.Helper()
	return openURL(t, pgtest.URL(t))
}

func openURL(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) atigip.Store { return open(t) })
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if got := atigip.ErrorCode(err); got != atigip.EUNAVAILABLE {
		t.Fatalf("error code = %q, want %q (err %v)", got, atigip.EUNAVAILABLE, err)
	}
	for _, bad := range []string{"postgres://%zz", "postgres://u:s3cr3t@h:notaport/db", "host=h port=notaport password=s3cr3t"} {
		_, err := Open(ctx, bad)
		if err == nil {
			t.Fatalf("malformed URL %d accepted", len(bad))
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error echoes the password: %v", err)
		}
	}
}

func TestMapError(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"unique", &pgconn.PgError{Code: "23505"}, atigip.ECONFLICT},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, atigip.ECONFLICT},
		{"serialization", &pgconn.PgError{Code: "40001"}, atigip.ECONFLICT},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, atigip.EUNAVAILABLE},
		{"too many connections", &pgconn.PgError{Code: "53300"}, atigip.EUNAVAILABLE},
		{"syntax", &pgconn.PgError{Code: "42601"}, atigip.EINTERNAL},
		{"coded kept", atigip.Errorf(atigip.ENOTFOUND, "x"), atigip.ENOTFOUND},
		{"plain", errors.New("boom"), atigip.EINTERNAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mapError(fmt.Errorf("wrapped: %w", c.err))
			if got := atigip.ErrorCode(err); got != c.code {
				t.Errorf("code = %q, want %q", got, c.code)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("cause lost: %v", err)
			}
		})
	}
	if mapError(nil) != nil {
		t.Error("mapError(nil) != nil")
	}
	if !errors.Is(mapError(context.Canceled), context.Canceled) {
		t.Error("context.Canceled not kept")
	}
}

// TestMigrations checks the embedded files and that every kind has its
// table: a new kind without a migration fails here.
func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %v, want to start at 1", ms)
	}
	db := open(t)
	ctx := t.Context()
	for _, k := range atigip.Kinds {
		if _, ok := kindLabels[k]; !ok {
			t.Errorf("kind %s has no French label", k)
		}
		var n int
		err := db.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, string(k)).Scan(&n)
		// id, version, ref, departement, commune, status, parent, owner,
		// public, created_at, updated_at, data
		if err != nil || n != 12 {
			t.Errorf("table %s: %d columns (err %v), want 12", k, n, err)
		}
	}
	var applied int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil || applied != len(ms) {
		t.Errorf("schema_migrations has %d rows (err %v), want %d", applied, err, len(ms))
	}
}

// TestConcurrentMigrate opens several stores at once on an empty schema:
// the advisory lock makes them take turns, so all succeed and each
// migration is applied once.
func TestConcurrentMigrate(t *testing.T) {
	url := pgtest.URL(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*DB, n)
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	ms, _ := migrations()
	var applied int
	if err := dbs[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil || applied != len(ms) {
		t.Errorf("schema_migrations has %d rows (err %v), want %d", applied, err, len(ms))
	}
}

func waitSignal(sig <-chan struct{}, d time.Duration) bool {
	select {
	case <-sig:
		return true
	case <-time.After(d):
		return false
	}
}

// TestTwoInstances runs two stores on the same schema, as two servers on
// one database: each hears the other's commits through LISTEN/NOTIFY.
func TestTwoInstances(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	sigA, cancelA := a.Subscribe()
	defer cancelA()
	sigB, cancelB := b.Subscribe()
	defer cancelB()
	// Subscribe returns with the listeners in place, and no signal yet.
	if waitSignal(sigA, 50*time.Millisecond) || waitSignal(sigB, 50*time.Millisecond) {
		t.Fatal("signal before any commit")
	}

	post := storetest.Sample(atigip.KindPost, 0)
	if err := a.Entities(atigip.KindPost).Create(ctx, post); err != nil {
		t.Fatal(err)
	}
	if !waitSignal(sigB, 5*time.Second) {
		t.Fatal("instance B was not told of A's commit")
	}
	cs, err := b.Changes(ctx, 0, 10)
	if err != nil || len(cs) != 1 || cs[0].ID != post.GetMeta().ID {
		t.Fatalf("B's changes = %+v (err %v), want A's create", cs, err)
	}
	waitSignal(sigA, time.Second) // A's own signal

	if err := b.Entities(atigip.KindPost).Update(ctx, post); err != nil {
		t.Fatal(err)
	}
	if !waitSignal(sigA, 5*time.Second) {
		t.Fatal("instance A was not told of B's commit")
	}
	// B's update is seen by A, and A's stale copy now conflicts.
	post.GetMeta().Version = 1
	err = a.Entities(atigip.KindPost).Update(ctx, post)
	if atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("stale update from A = %v, want conflict", err)
	}

	// Follow on B sees everything A writes.
	var mu sync.Mutex
	var seen []atigip.Change
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- atigip.Follow(fctx, b, 0, 100, time.Hour, func(cs []atigip.Change) error {
			mu.Lock()
			seen = append(seen, cs...)
			mu.Unlock()
			return nil
		})
	}()
	for i := range 5 {
		if err := a.Entities(atigip.KindOrganisation).Create(ctx, storetest.Sample(atigip.KindOrganisation, i)); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := a.LastSeq(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		top := int64(0)
		if n > 0 {
			top = seen[n-1].Seq
		}
		mu.Unlock()
		if top == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's follower reached seq %d, want %d", top, last)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
}

// TestListenerReconnects kills the listening backend: the listener comes
// back, says so with a signal, and relays later commits again.
func TestListenerReconnects(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	sig, cancel := a.Subscribe()
	defer cancel()
	pid := a.listener.backendPID()
	if pid == 0 {
		t.Fatal("no listener backend")
	}
	if _, err := b.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)); err != nil {
		t.Fatal(err)
	}
	// The reconnection signal.
	if !waitSignal(sig, 10*time.Second) {
		t.Fatal("no signal after the listener reconnected")
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.listener.backendPID() == 0 || a.listener.backendPID() == pid {
		if time.Now().After(deadline) {
			t.Fatal("listener did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for waitSignal(sig, 100*time.Millisecond) {
	}
	if err := b.Entities(atigip.KindPrison).Create(ctx, storetest.Sample(atigip.KindPrison, 0)); err != nil {
		t.Fatal(err)
	}
	if !waitSignal(sig, 5*time.Second) {
		t.Fatal("no signal of the other instance's commit after reconnection")
	}
}

// TestSeqOrderUnderContention writes from many goroutines, several
// changes per transaction, while a reader polls the feed: the reader must
// end with exactly the full feed, which fails if a seq ever became visible
// after a higher one.
func TestSeqOrderUnderContention(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	const writers, txs = 6, 15
	stop := make(chan struct{})
	var seen []atigip.Change
	readerDone := make(chan error, 1)
	go func() {
		var after int64
		for {
			select {
			case <-stop:
				// One last read after every writer is done.
				cs, err := db.Changes(ctx, after, 0)
				seen = append(seen, cs...)
				readerDone <- err
				return
			default:
			}
			cs, err := db.Changes(ctx, after, 0)
			if err != nil {
				readerDone <- err
				return
			}
			if len(cs) > 0 {
				seen = append(seen, cs...)
				after = cs[len(cs)-1].Seq
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range txs {
				err := db.InTx(ctx, func(tx atigip.Tx) error {
					n := w*txs + i
					if err := tx.Entities(atigip.KindPost).Create(ctx, storetest.Sample(atigip.KindPost, n)); err != nil {
						return err
					}
					// Work between writes widens the window in which an
					// unordered allocation would show.
					time.Sleep(time.Millisecond)
					return tx.Entities(atigip.KindPrison).Create(ctx, storetest.Sample(atigip.KindPrison, n))
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	all, err := db.Changes(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*writers*txs {
		t.Fatalf("%d changes, want %d", len(all), 2*writers*txs)
	}
	if len(seen) != len(all) {
		t.Fatalf("reader saw %d changes, feed has %d: a seq became visible late", len(seen), len(all))
	}
	for i := range all {
		if seen[i] != all[i] {
			t.Fatalf("reader change %d = %+v, feed has %+v", i, seen[i], all[i])
		}
	}
}

// TestConflictKeepsTx checks that a duplicate reference inside InTx does
// not abort the PostgreSQL transaction: the caller may handle the conflict
// and go on.
func TestConflictKeepsTx(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	org := storetest.Sample(atigip.KindOrganisation, 0)
	if err := db.Entities(atigip.KindOrganisation).Create(ctx, org); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(tx atigip.Tx) error {
		orgs := tx.Entities(atigip.KindOrganisation)
		if err := orgs.Create(ctx, storetest.Sample(atigip.KindOrganisation, 0)); atigip.ErrorCode(err) != atigip.ECONFLICT {
			return fmt.Errorf("duplicate create = %v, want conflict", err)
		}
		if err := orgs.CreateMany(ctx, []atigip.Entity{storetest.Sample(atigip.KindOrganisation, 0)}); atigip.ErrorCode(err) != atigip.ECONFLICT {
			return fmt.Errorf("duplicate create many = %v, want conflict", err)
		}
		other := storetest.Sample(atigip.KindOrganisation, 2)
		if err := orgs.Create(ctx, other); err != nil {
			return err
		}
		taken := storetest.Sample(atigip.KindOrganisation, 0)
		*taken.GetMeta() = *other.GetMeta()
		if err := orgs.Update(ctx, taken); atigip.ErrorCode(err) != atigip.ECONFLICT {
			return fmt.Errorf("update to a taken ref = %v, want conflict", err)
		}
		return orgs.Create(ctx, storetest.Sample(atigip.KindOrganisation, 4))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, total, err := db.Entities(atigip.KindOrganisation).List(ctx, atigip.ListFilter{})
	if err != nil || total != 3 {
		t.Fatalf("total = %d (err %v), want 3", total, err)
	}
}

// TestDataColumnsAgree checks the indexed columns written by Create,
// CreateMany and Update against Keys(), straight from SQL.
func TestDataColumnsAgree(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	posts := db.Entities(atigip.KindPost)
	one := storetest.Sample(atigip.KindPost, 0)
	many := []atigip.Entity{storetest.Sample(atigip.KindPost, 1), storetest.Sample(atigip.KindPost, 2)}
	if err := posts.Create(ctx, one); err != nil {
		t.Fatal(err)
	}
	if err := posts.CreateMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	upd := storetest.Sample(atigip.KindPost, 4)
	*upd.GetMeta() = *many[1].GetMeta()
	if err := posts.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	for _, e := range []atigip.Entity{one, many[0], upd} {
		k := e.Keys()
		var dep, com, status string
		var parent int64
		var public bool
		var codes []string
		err := db.pool.QueryRow(ctx, `SELECT departement, commune, status, parent, public,
			ARRAY(SELECT code FROM rome r WHERE r.kind = 'posts' AND r.id = p.id ORDER BY code)
			FROM posts p WHERE id = $1`, e.GetMeta().ID).Scan(&dep, &com, &status, &parent, &public, &codes)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(k.ROME))
		if dep != k.Departement || com != k.Commune || status != k.Status || parent != k.Parent ||
			public != k.Public || fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Errorf("post %d columns (%s %s %s %d %v %v), keys %+v", e.GetMeta().ID, dep, com, status, parent, public, codes, k)
		}
	}
	// Rows of a deleted entity's ROME codes go with it.
	if err := posts.Delete(ctx, one.GetMeta().ID, 1); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM rome WHERE id = $1`, one.GetMeta().ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rome rows left for a deleted post (err %v)", n, err)
	}
}

// TestUnknownKind refuses a kind the schema lacks, without SQL.
func TestUnknownKind(t *testing.T) {
	db := open(t)
	_, err := db.Entities("nope").Get(t.Context(), 1)
	if atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("get of unknown kind = %v", err)
	}
	err = db.Entities(atigip.KindPost).Create(t.Context(), storetest.Sample(atigip.KindPrison, 0))
	if atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("prison created as a post: %v", err)
	}
}

// TestCloseTwice: Close is idempotent, with or without a listener.
func TestCloseTwice(t *testing.T) {
	url := pgtest.URL(t)
	for _, subscribe := range []bool{false, true} {
		db, err := Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		if subscribe {
			_, cancel := db.Subscribe()
			defer cancel()
		}
		done := make(chan struct{})
		go func() {
			db.Close()
			db.Close()
			close(done)
		}()
		if !waitSignal(done, 5*time.Second) {
			t.Fatalf("second Close hangs (subscribed: %v)", subscribe)
		}
	}
}

func TestChannelName(t *testing.T) {
	long := strings.Repeat("s", 63)
	cases := []struct {
		schema string
		want   string
	}{
		{"public", "atigip_changes.public"},
		{long, channelName(long)},
	}
	for _, c := range cases {
		got := channelName(c.schema)
		if got != c.want || len(got) > 63 {
			t.Errorf("channelName(%q) = %q (%d bytes)", c.schema, got, len(got))
		}
	}
	if channelName(long) == channelName(long+"x") {
		t.Error("two long schemas share a channel")
	}
}
