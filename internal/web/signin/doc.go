// Package signin renders the development sign-in page of ATIGIP 360: a
// clearly marked demonstration page where one picks a role and receives a
// development token (as a session cookie, and shown for curl). It only
// renders HTML; internal/httpapi mounts it under /dev/signin in
// development mode only.
package signin
