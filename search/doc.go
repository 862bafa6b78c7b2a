// Package search is the French full-text search of ATIGIP 360 over TIG
// posts, prison work and training offers, host organisations and floor
// spaces, built on bleve.
//
// One bleve index holds every searchable type, told apart by a type field.
// Text goes through a French analyzer (elision, accent folding, stop words,
// light stemming), so "écurie", "ecurie" and "ÉCURIES" meet. Query words
// that are job titles of the ROME referential expand to the ROME codes of
// those titles, matched against each document's codes: "jardinier" finds
// posts coded A1203 whose text never says it. Typos are corrected on the
// words as written, from a dictionary of the index's own words and of the
// ROME titles: none up to four letters, one up to eight, two beyond, a
// transposition counting one; a real word is corrected only to a far more
// frequent one, a word of the job titles never (see typo.go). Filters
// select without scoring (see filterQuery).
//
// A request without a type searches the role's default kinds
// (DefaultTypes); "*" alone means no text; emoji or stop words alone are
// refused with a message.
//
// Every search is cut for the audience of the role asking: the public sees
// public posts and habilitated organisations, justice professionals see
// justice-only posts and places left too. Person profiles, measures and
// applications are never indexed.
//
// The index follows the store's change feed (Index.Follow) and keeps the
// last applied change Seq and its mapping version in bleve's internal
// storage: a restart catches up from that Seq, and an index that is
// corrupt or from an older mapping is rebuilt rather than trusted.
//
// Queries are built for bleve's costs, measured on the national demo set
// (BenchmarkSearch, BenchmarkSearchEach): filters are conjunction clauses
// that leap between matching documents, the public's audience cut
// excludes the few justice-only documents, a word common in the
// description or ROME label is not looked for there when other words
// decide, a whole job title needs all its words (its ROME codes find the
// rest), quoted phrases are looked up in pair fields, facets are counted
// on the first page unless asked, and highlights and stored fields are
// read in a second pass over the page's hits only. A text query over
// several kinds collects each kind's best hits in one search (kindTops);
// with a place or ROME filter its terms read only the filter's documents
// (prefilterQuery), nationally it runs in parts over ranges of document
// numbers on every core (partsQuery), both with the same matches and
// scores (BenchmarkSearchScale). Requests without text
// never reach bleve once the index is loaded: an in-memory columnar table
// of the filter fields, kept row by row on each write, answers them with
// bitset operations (see filterTable, BenchmarkSearchKinds).
//
// The package takes and returns plain Go values; internal/httpapi adapts
// it to HTTP.
package search
