// Package crmsync keeps the organisations of ATIGIP 360 in step with the
// partners TIG referents manage in the Axelor CRM.
//
// Pull: a first full sync, then incremental syncs of
// com.axelor.apps.base.db.Partner by a durable cursor. A run fixes its
// lower bound "since" from the CRM's own timestamps (the latest
// updatedOn/createdOn of a partner, its main address or its e-mail seen by
// complete pulls, minus an overlap window), never from the local clock,
// and walks matching partners by ascending id (keyset paging: id > last
// id). Each page is applied to the store in one transaction together with
// the cursor (bound, last id, pending pushes), so a crash can never move
// the cursor past unapplied data, and a restart resumes at the last
// committed page. Writes are idempotent: an organisation is found by its
// unique reference "crm:<id>" and updated only when a mapped field
// differs. Archived partners are deactivated, never deleted; partners
// deleted in the CRM are found by comparing id lists (on full syncs and
// every Config.ReconcileEvery) and deactivated too. The mapping lives in
// mapping.go, in one place.
//
// Push: the fields this system owns (habilitation status and date, number
// of open TIG posts, in partnerAttrs under atigip* keys; coordinates
// geocoded here when the CRM had none) are written back with the record's
// version, and only after a local decision: provenance.go keeps, per
// partner and field, what the store and the CRM held at their last
// agreement, so a new or restored store adopts the CRM's values instead
// of overwriting them. A conflict re-reads the record, re-applies only
// what is owed onto the fresh copy and retries; a field a referent owns is
// never sent. Every write is checked against the answer
// (axelor.ErrNoEffect). A run that leaves write-backs owed fails with
// *IncompleteError and lists them; serve retries it with a backoff.
//
// Syncer exposes Run (once, with dry-run and progress), Loop (periodic and
// on demand), Status (for GET /api/sync/status) and Prometheus collectors.
// Logs carry counts, CRM ids and error codes, never names or addresses.
//
// # What Axelor does, from its source
//
// Read in github.com/axelor/axelor-open-platform at tag v8.2.2 (commit
// df889dee7); the fake (crmsync/axelorfake) models each point and a test
// there cites the class.
//
//   - Login: AxelorCallbackLogic#redirectToOriginallyRequestedUrl answers
//     an XHR login (AuthPac4jInfo#isXHR: X-Requested-With, Accept or
//     Content-Type equal to the exact value) with new OkAction("{}"):
//     HTTP 200, body "{}", and no Content-Type (pac4j's JEE adapter writes
//     the body and sets none). The session id is renewed on login
//     (renewSession), so every login invalidates the previous cookie for
//     every concurrent caller. With MFA the body is {"route":…} instead.
//   - CSRF: AxelorCsrfMatcher#addResponseCookieAndHeader sets the
//     CSRF-TOKEN cookie (not HttpOnly) and the X-CSRF-Token header on the
//     login answer; AxelorCsrfGenerator never rotates the token but
//     refreshes its expiry; AxelorCsrfAuthorizer skips the check for
//     native clients (no Origin header) and direct clients (API key, basic
//     direct), otherwise pac4j's CsrfAuthorizer refuses an unsafe method
//     whose X-CSRF-Token differs with a bare 403.
//   - Logout: AxelorLogoutLogic (pac4j DefaultLogoutLogic) destroys the
//     session and redirects to the logout URL (the base URL by default).
//     Without a session, AxelorAjaxRequestResolver answers 401 to XHR and
//     a redirect to the login page otherwise.
//   - Errors: ResponseInterceptor turns every exception of a /ws service
//     into HTTP 200 with {"status":-1,"data":{…}} (Response#setException,
//     ResponseException#toReport). A PostgreSQL error outside the mapped
//     SQL states (serialisation failure, deadlock, timeout, lost
//     connection…) comes as title "SQL error", message "Unexpected
//     database error occurred on the server.": transient, so the client
//     retries status -1 a few times. An optimistic-lock failure carries
//     entityId/entityName. Response status codes: 0 success, -1 failure,
//     -4 validation, -5 login incorrect, -6 too many attempts, -7 login
//     required, -8 login success, -90 transport, -100 timeout.
//   - Fetch: Resource#fetch answers toMap(entity, fields) =
//     _toMap(bean, unflatten(names), false, 0): the root has id, version,
//     archived (when not null) and the requested properties; a many-to-one
//     is a compact map {id, $version, name field, code} holding the
//     requested sub-fields, nested again for deeper paths. Dotted names
//     are therefore nested maps ("mainAddress": {"zip": …, "city":
//     {"name": …}}), unlike a search row. Resource#mergeRelated merges the
//     "related" lists in; RestService#fetch adds $attachments. A missing
//     id is an OptimisticLockException (status -1, "Concurrent updates
//     error"). A save answer (Resource#save) has the same nested shape.
//   - Search: Resource#search with fields uses Query.Selector#fetch: id
//     and version always, dotted scalars as flat keys ("mainAddress.zip"),
//     a many-to-one as {id, $version, <name field>} only (no code), a
//     null reference as null. "related" is ignored. total is a COUNT when
//     limit > 0; a query failing while it executes is swallowed into an
//     answer without total. Without "data" no criteria apply (archived
//     rows included); _domain is AND-ed and checked by compiling it
//     (Resource#getCriteria: "Invalid domain").
//   - Versions: JPA#_edit treats a map without "version" as a reference
//     (nothing written), compares versions only when a value changes
//     (checkVersion), and a missing record is a stale-state error.
//   - Timestamps: AuditListener stamps createdOn on insert and
//     AuditUpdateListener stamps updatedOn on update only, both with the
//     server's LocalDateTime.now(); ObjectMapperProvider serialises them in
//     UTC with ZonedDateTime#toString (seconds omitted when zero) and
//     BigDecimals as plain strings. The CRM's clock, not ours, orders its
//     changes.
//   - Session timeout: AuthPac4jModule#sessionTimeoutMinutes (default 60)
//     with an access-based expiry. Maintenance: MaintenanceFilter answers
//     503 with Retry-After: 30.
//   - Partner categories installed by Axelor Open Suite (axelor-base demo
//     data, base_partnerCategory.csv): INDIV, SMB, SME, KA, RESAL, WHSAL,
//     FRANCH, ADMIN, CONC, INV, PRESS, ASSOC; DefaultCategoryKinds maps
//     them, other codes go by their category name.
package crmsync
