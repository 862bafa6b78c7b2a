// Package postgres is the production store of ATIGIP 360: atigip.Store on
// PostgreSQL through pgx/v5 (pgxpool).
//
// Layout: one table per entity kind, all with the same columns (the
// atigip.Keys of each entity, indexed, and the entity JSON in data), a rome
// table for ROME code filters, the change feed (changes), cursors and
// audits. The id, version and timestamp columns are authoritative: the copy
// of atigip.Meta inside data is overwritten on read (a single Create stores
// it before the id is known). Migrations are embedded SQL files, applied under a session
// advisory lock so that several instances starting at once are safe.
//
// Change feed order: every transaction that writes takes a
// transaction-scoped advisory lock before drawing its first seq and keeps
// it until commit, so seqs commit in order and a follower that saw seq n
// never later finds a change below n. Such a transaction also sends a
// NOTIFY (delivered by PostgreSQL on commit only); Subscribe listens on a
// dedicated connection, reconnecting when it is lost, so every instance on
// the same database wakes up.
//
// Everything lives in the connection's current schema (the first of
// search_path), which lets tests run side by side in throwaway schemas.
package postgres
