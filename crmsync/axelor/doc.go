// Package axelor is a client for the REST API of the Axelor Open Platform
// (/ws/rest), written for syncing CRM partners from Axelor Open Suite.
//
// It follows the protocol facts of shared/specs/axelor-rest.md and guards
// against the traps listed there:
//
//   - every HTTP 200 has its "status" checked; application errors arrive as
//     200 with status -1 and data as an object;
//   - a search answer without "total" is a swallowed query error, never
//     "zero rows" (ErrSwallowedQuery);
//   - criteria are always sent with an explicit root operator, because the
//     server OR-s top-level criteria by default;
//   - updates always carry an integer "version" and the answer is compared
//     with what was written, so an update without effect is an error
//     (ErrNoEffect), and an optimistic-lock failure is ErrConflict;
//   - date-times may come without seconds ("2026-03-04T10:15Z") and decimals
//     as strings; updatedOn is null on records never updated;
//   - a lost session (401, redirect to the login page, non-JSON 200) triggers
//     one new login and a replay.
//
// Transport faults are handled by hashicorp/go-retryablehttp with exponential
// backoff and jitter, Retry-After in seconds or HTTP date (capped), per
// attempt timeouts, and a circuit breaker that stops hammering a dead CRM.
package axelor
