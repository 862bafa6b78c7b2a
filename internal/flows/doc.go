// Package flows exchanges TIG measures with APPI, the probation case
// system (the system of record for people):
//
//   - FFE11 (in): a person sentenced to TIG must be placed; creates or
//     updates the person's reference and the measure;
//   - FFS12 (out): the CPIP's proposal (person, post, start date) to the
//     judge, queued in an outbox in the transaction of the transition
//     (QueueProposal), polled in order and acknowledged cumulatively (Poll,
//     Ack): delivered at least once, in order per measure;
//   - FFE13 / FFE15 (in): the judge's assignment, or refusal with a reason.
//
// Receiver.Receive applies an inbound message in one store transaction
// with its record and the measure's sequence cursor. The record's unique
// reference ("in:" + message id) makes messages idempotent: a duplicate is
// acknowledged and changes nothing. A message whose per-measure sequence
// number leaves a gap is held and applied when the gap is filled; an
// answer to an unknown or superseded FFS12 is rejected with its reason;
// a malformed message is rejected with a French reason and stored for
// inspection (Inspect). A process killed before the commit has applied
// nothing; after it, the sender's retry is a duplicate.
//
// Machine clients authenticate with an API key (header X-API-Key) whose
// SHA-256 digest is kept in configuration (Clients, HashKey), apart from
// people's tokens. The package imports only the standard library,
// internal/atigip and internal/workflow.
package flows
