package httpapi

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// migratable is what both real stores are beyond atigip.Store.
type migratable interface {
	atigip.Store
	Migrate(ctx context.Context) error
}

// ready closes db at the end of t and migrates it.
func ready[S migratable](t testing.TB, db S, err error) atigip.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// realStores opens each real store, fresh and migrated, for tests that
// must hold on both (PostgreSQL is skipped when unreachable, outside CI).
var realStores = map[string]func(t testing.TB) atigip.Store{
	"sqlite": func(t testing.TB) atigip.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atigip.db"))
		return ready(t, db, err)
	},
	"postgres": func(t testing.TB) atigip.Store {
		db, err := postgres.Open(context.Background(), pgtest.URL(t))
		return ready(t, db, err)
	},
}
