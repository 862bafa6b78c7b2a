// Package matching proposes lawful, ranked and explained matches between
// people under judicial supervision and TIG posts or prison offers (work
// posts, vocational trainings, jobs at release), in both directions, and
// proposes a global assignment of many people to many posts.
//
// An Engine is pure Go without I/O: it is built from plain values (posts,
// offers, organisations, people, measures) and the embedded ROME
// referential of internal/refdata. Load reads them from the store, and a
// Service (service.go) keeps a snapshot following the store's change feed
// and runs global assignment jobs in goroutines that its Close cancels;
// HTTP, perimeters and disclosure stay with the caller (internal/httpapi).
//
// Every proposal goes through three layers:
//
//   - hard constraints (rules.go, law.go): the rulebook, each a named Rule
//     with its legal reference and a French sentence; a post that breaks
//     one is excluded, and the exclusion can be asked for. The same code
//     guards every step that commits a person (Check, door.go: the
//     proposal, the judge's decision, the governor's acceptance, a
//     transfer), so the doors refuse with the sentences the ranking shows;
//   - a score (score.go): a weighted sum of visible terms, weights in one
//     Config with documented defaults;
//   - an explanation: the terms as data and a short French sentence.
//
// An engine is patched in milliseconds with the records changed since it
// was built (Patch, patch.go), so that the rules see a change at once.
//
// Global assignment (assign.go) maximises the total value of the proposals
// under the places left and the hard constraints, exactly, by successive
// shortest paths on a min-cost flow network where the load of each host
// organisation has a convex cost (the fair-spread term); a greedy baseline
// is kept for comparison. Everything is deterministic: same input, same
// output.
//
// The output is always a proposal: a CPIP, a PJJ educator or prison staff
// decides (automated job matching is high-risk under the EU AI Act).
package matching
