// Package pgtest gives tests a throwaway PostgreSQL schema, so that
// packages running in parallel and reruns never see each other's data.
//
// The server is ATIGIP_TEST_DATABASE_URL, by default the local test
// database. When it cannot be reached the test is skipped with a message,
// except under CI=true where it fails: CI must never pass without
// PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database used when ATIGIP_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the server tests run against.
func BaseURL() string {
	if u := os.Getenv("ATIGIP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a fresh schema, drops it when tb ends, and returns a
// connection URL whose search_path is that schema (so objects created
// through it land there).
func URL(tb testing.TB) string {
	tb.Helper()
	base := BaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin := withParam(base, "synchronous_commit", "off")
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("pgtest: PostgreSQL is required under CI=true and cannot be reached (ATIGIP_TEST_DATABASE_URL): %v", err)
		}
		tb.Skipf("pgtest: PostgreSQL unreachable, test skipped (start it or set ATIGIP_TEST_DATABASE_URL; under CI=true this fails): %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("pgtest: random schema name: %v", err)
	}
	schema := "atigip_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	// Throwaway data need not wait for the disk at each commit: tests run
	// several times faster on a busy machine, with the same semantics.
	return withParam(WithSearchPath(base, schema), "synchronous_commit", "off")
}

// WithSearchPath returns dsn (URL or key=value form) with its search_path
// set to schema.
func WithSearchPath(dsn, schema string) string { return withParam(dsn, "search_path", schema) }

// withParam sets a run-time parameter of the connections made with dsn.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}
