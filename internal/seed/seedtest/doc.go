// Package seedtest opens SQLite stores for the tests of other packages:
// empty and migrated, or filled with the demonstration data of
// internal/seed at some scale. Each store lives in the test's temporary
// directory and is closed when the test ends, so tests never share one.
package seedtest
