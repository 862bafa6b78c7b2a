// Package sqlite is the embedded atigip.Store, on one SQLite file through
// the pure-Go driver modernc.org/sqlite (no cgo), the default store of
// `make run` and of single-server deployments.
//
// Each entity kind has its own table holding the indexed keys of
// atigip.Keys beside the entity's JSON; ROME codes go to a side table for
// code and domain filters. Writes go through one connection, so that they
// serialize and the change feed's Seq values commit in order; reads use a
// pool of read-only connections which WAL mode lets run beside the writer.
// Schema changes are numbered SQL files embedded in the binary and applied
// by Migrate.
package sqlite
