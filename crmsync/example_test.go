package crmsync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/crmsync/axelorfake"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// Sync a small fake CRM into a fresh SQLite store.
func Example() {
	fake := axelorfake.New(axelorfake.Options{Users: map[string]string{"sync": "secret"}})
	fake.Seed(100, 1)
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "crmsync")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "atigip.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		panic(err)
	}

	cfg := crmsync.DefaultConfig()
	cfg.AxelorURL, cfg.User, cfg.Password = srv.URL, "sync", "secret"
	client, err := cfg.NewClient()
	if err != nil {
		panic(err)
	}
	s, err := crmsync.New(cfg, db, client)
	if err != nil {
		panic(err)
	}
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("full:", rep.Full, "created:", rep.Created, "rejected:", rep.Rejected)
	rep, _ = s.Run(ctx, crmsync.RunOptions{})
	fmt.Println("full:", rep.Full, "created:", rep.Created, "updated:", rep.Updated)
	// Output:
	// full: true created: 98 rejected: 0
	// full: false created: 0 updated: 0
}
