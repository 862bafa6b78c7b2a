// Package axelorfake is a fake Axelor Open Platform server (an
// http.Handler for httptest) written from the Axelor Open Platform 8.2.2
// source (github.com/axelor/axelor-open-platform, tag v8.2.2) and the
// protocol facts of shared/specs/axelor-rest.md, to test the CRM sync
// without a real CRM. axelor_test.go pins each behaviour with the class
// it comes from: the XHR login's 200 "{}" without Content-Type
// (AxelorCallbackLogic), logout (AxelorLogoutLogic), nested fetch answers
// (Resource#fetch/toMap), flat search rows (Query.Selector), status -1 in
// an HTTP 200 (ResponseInterceptor, Response), CSRF (AxelorCsrfAuthorizer),
// server-clock timestamps (AuditListener, AuditUpdateListener), version
// conflicts (JPA#_edit) and "_domain" (Resource#getCriteria).
//
// It keeps Axelor's envelopes and quirks: application errors in HTTP 200
// with status -1, top-level criteria OR-ed unless an operator is given,
// archived rows hidden only when "data" is present, a missing limit
// returning every row, value/type mismatches swallowed into an answer
// without "total", updates without "version" silently doing nothing,
// versions compared only when a value changes, updatedOn null on new
// records, date-times in ZonedDateTime#toString form (minute-only when
// seconds are zero), decimals as strings at scale 18, mainAddress rewritten
// from partnerAddressList by the partner save hook, session expiry, CSRF,
// XHR detection by exact header equality, API-KEY and basic auth.
//
// Faults can be injected at a rate, at a rate per kind, or queued one by
// one: 500, 502, 503 and 429 with Retry-After (seconds or HTTP date), slow
// answers, connection resets before or after the write is committed,
// session expiry, a login page in a 200, maintenance mode, concurrent
// edits by another user, {"status":-1} database errors and CSRF refusals.
//
// Seed fills it with generated partners: French organisation names, real
// communes with their postcodes and centroids (the 600 most populous
// communes of internal/refdata, Paris, Lyon and Marseille by arrondissement),
// categories, Luhn-valid SIRETs, some partners without coordinates.
package axelorfake
