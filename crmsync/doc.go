// Package crmsync keeps the organisations of ATIGIP 360 in step with the
// partners TIG referents manage in the Axelor CRM.
//
// Pull: a first full sync, then incremental syncs of
// com.axelor.apps.base.db.Partner by a durable cursor. A run fixes its
// lower bound "since" (the start of the previous complete run minus an
// overlap window) and walks matching partners by ascending id (keyset
// paging: id > last id). Each page is applied to the store in one
// transaction together with the cursor (since, last id, pending pushes),
// so a crash can never move the cursor past unapplied data, and a restart
// resumes at the last committed page. Writes are idempotent: an
// organisation is found by its unique reference "crm:<id>" and updated
// only when a mapped field differs. Archived partners are deactivated,
// never deleted. The mapping lives in mapping.go, in one place.
//
// Push: the fields this system owns (habilitation status and date, number
// of open TIG posts, in partnerAttrs under atigip* keys; coordinates
// geocoded here when the CRM had none) are written back with the
// record's version. A conflict re-reads the record, re-applies only our
// fields onto the fresh copy and retries; a field a referent owns is never
// sent. Every write is checked against the answer (axelor.ErrNoEffect).
//
// Syncer exposes Run (once, with dry-run and progress), Loop (periodic and
// on demand), Status (for GET /api/sync/status) and Prometheus collectors.
// Logs carry counts, CRM ids and error codes, never names or addresses.
package crmsync
