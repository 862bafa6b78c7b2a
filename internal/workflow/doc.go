// Package workflow holds the rules of the ATIGIP 360 procedures: the TIG
// measure's state machine (to place → proposed to the judge → assigned →
// in progress ↔ suspended → completed, or closed without completion),
// hours reported by the tutor and confirmed by the CPIP, incidents, the
// 18-month deadline with its near-deadline flag; the habilitation of host
// organisations and the registration of their posts (opinions, decision,
// expiry, renewal); and detainees' applications to prison work and
// training (CPU clearance, interview, assignment or refusal, waiting list,
// transfer).
//
// The rules (measure.go, prison.go, procedure.go) are pure functions over
// domain values: they check who may act, from which state and with which
// data, then change the values in place and say what else must change.
// Service (service.go) runs each of them in one store transaction, with the
// optimistic version the client read, so a rule and its effects (places of
// a post, an FFS12 proposal queued for APPI, the audit entry) are stored
// together or not at all. Every step that commits a person (the proposal
// to the judge, the judge's assignment by route or FFE13, the governor's
// acceptance of an application, a transfer's contracts) evaluates the
// rulebook of matching (matching.Check) on the pair in that transaction
// (doors.go). The package imports the standard library, internal/atigip
// and the pure rulebook of matching.
//
// Every error is a coded atigip.Error with a French message: EFORBIDDEN
// for a role that may not act, ECONFLICT for a state that forbids the
// change (or a stale version), EINVALID for missing or wrong data.
package workflow
