// Package atigip is the domain of ATIGIP 360: the types of community service
// (TIG) and prison work, their validation, the store and search interfaces
// the adapters implement, and the coded errors every layer shares.
//
// It imports only the standard library so that every adapter (SQLite,
// PostgreSQL, HTTP, tiles, search, matching, CRM sync) depends on it and
// never on each other.
package atigip
