// Package httpapi is the thin HTTP layer of ATIGIP 360 (Fiber v2).
//
// Every route is declared as a Route value carrying the roles it admits,
// its OpenAPI description and its handler; the Server registers them,
// enforces the roles in one place, and generates /openapi.json from the
// same declarations, so the documented API and the served API cannot
// drift apart. Capabilities (tiles, search, matching, CRM sync, flows) are
// Modules living in their own files of this package; the core packages
// never import it.
//
// The generic CRUD routes for every entity kind (/api/{kind}) and their
// role matrix are in crud.go and policy.go. Errors are written as
// application/problem+json (RFC 9457) with French messages through one
// code→status map (problem.go). Logs carry the route pattern, never the
// raw URL, query string, body or token, so no personal data reaches them.
package httpapi
