// Package embedlink signs and checks the short-lived links Axelor
// generates to embed a partner's page (an html view or a dashlet): an
// HMAC-SHA256, with a secret both sides share, over the partner's id, the
// link's expiry and the subject (the Axelor user), so that a link opens
// one partner's page, for one user, for a few minutes. The check is in
// constant time.
package embedlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxLifetime bounds how far in the future a link may expire: a link
// valid for longer is refused, whoever signed it.
const MaxLifetime = 15 * time.Minute

// MinSecretLen is the shortest secret accepted (32 bytes).
const MinSecretLen = 32

// Errors of Verify.
var (
	ErrMissing = errors.New("embedlink: link incomplete")
	ErrExpired = errors.New("embedlink: link expired")
	ErrForged  = errors.New("embedlink: signature does not match")
	ErrTooLong = errors.New("embedlink: expiry too far in the future")
)

// Link is what a signed link carries.
type Link struct {
	Partner int64
	Expires time.Time // second precision
	Subject string    // the Axelor user who opens it
}

// Message is the signed text: "partner\nexpiry (Unix seconds)\nsubject".
// Axelor computes the same bytes (see README).
func (l Link) Message() string {
	return strconv.FormatInt(l.Partner, 10) + "\n" + strconv.FormatInt(l.Expires.Unix(), 10) + "\n" + l.Subject
}

// Sign returns the link's signature in lower-case hex.
func Sign(secret []byte, l Link) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(l.Message()))
	return hex.EncodeToString(m.Sum(nil))
}

// Query returns the query string of a signed link: exp, sub, sig.
func Query(secret []byte, l Link) string {
	v := url.Values{}
	v.Set("exp", strconv.FormatInt(l.Expires.Unix(), 10))
	v.Set("sub", l.Subject)
	v.Set("sig", Sign(secret, l))
	return v.Encode()
}

// Verify checks the link for partner given its query values exp, sub and
// sig at now, and returns it.
func Verify(secret []byte, partner int64, exp, sub, sig string, now time.Time) (Link, error) {
	if exp == "" || strings.TrimSpace(sub) == "" || sig == "" || len(secret) == 0 {
		return Link{}, ErrMissing
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return Link{}, ErrMissing
	}
	l := Link{Partner: partner, Expires: time.Unix(sec, 0), Subject: sub}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return Link{}, ErrForged
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(l.Message()))
	// hmac.Equal compares in constant time.
	if !hmac.Equal(got, m.Sum(nil)) {
		return Link{}, ErrForged
	}
	if !now.Before(l.Expires) {
		return Link{}, ErrExpired
	}
	if l.Expires.Sub(now) > MaxLifetime {
		return Link{}, ErrTooLong
	}
	return l, nil
}
