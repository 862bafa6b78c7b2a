// Package storetest is the conformance suite and the benchmarks that every
// atigip.Store adapter (SQLite, PostgreSQL) runs, so that both stores keep
// exactly the semantics the rest of the system relies on: optimistic
// concurrency, filters, pagination, transactions, cursors, audits and a
// change feed that followers can resume from without losing an entry.
//
// An adapter's test calls Run with a function opening a fresh migrated
// store, and its benchmark calls Bench.
package storetest
