package embedlink_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/embedlink"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := embedlink.Link{Partner: 42, Expires: now.Add(5 * time.Minute), Subject: "referent.lyon"}
	sig := embedlink.Sign(secret, good)
	exp := fmt.Sprint(good.Expires.Unix())
	tests := []struct {
		name          string
		partner       int64
		exp, sub, sig string
		secret        []byte
		now           time.Time
		want          error
	}{
		{"valid", 42, exp, "referent.lyon", sig, secret, now, nil},
		{"another partner", 43, exp, "referent.lyon", sig, secret, now, embedlink.ErrForged},
		{"another subject", 42, exp, "referent.marseille", sig, secret, now, embedlink.ErrForged},
		{"later expiry", 42, fmt.Sprint(good.Expires.Unix() + 3600), "referent.lyon", sig, secret, now, embedlink.ErrForged},
		{"another secret", 42, exp, "referent.lyon", sig, []byte("ffffffffffffffffffffffffffffffff"), now, embedlink.ErrForged},
		{"not hex", 42, exp, "referent.lyon", "zz", secret, now, embedlink.ErrForged},
		{"expired", 42, exp, "referent.lyon", sig, secret, now.Add(5 * time.Minute), embedlink.ErrExpired},
		{"no signature", 42, exp, "referent.lyon", "", secret, now, embedlink.ErrMissing},
		{"no subject", 42, exp, "", sig, secret, now, embedlink.ErrMissing},
		{"bad expiry", 42, "demain", "referent.lyon", sig, secret, now, embedlink.ErrMissing},
		{"no secret configured", 42, exp, "referent.lyon", sig, nil, now, embedlink.ErrMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := embedlink.Verify(tc.secret, tc.partner, tc.exp, tc.sub, tc.sig, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err == nil && l != good {
				t.Fatalf("link %+v", l)
			}
		})
	}
	t.Run("too long", func(t *testing.T) {
		long := embedlink.Link{Partner: 42, Expires: now.Add(2 * time.Hour), Subject: "x"}
		_, err := embedlink.Verify(secret, 42, fmt.Sprint(long.Expires.Unix()), "x", embedlink.Sign(secret, long), now)
		if !errors.Is(err, embedlink.ErrTooLong) {
			t.Fatalf("err %v", err)
		}
	})
}

// ExampleQuery is what Axelor appends to the page's address.
func ExampleQuery() {
	l := embedlink.Link{Partner: 42, Expires: time.Unix(1_800_000_300, 0), Subject: "referent.lyon"}
	q, _ := url.ParseQuery(embedlink.Query([]byte("0123456789abcdef0123456789abcdef"), l))
	fmt.Printf("%q\n", l.Message())
	fmt.Println(q.Get("exp"), q.Get("sub"), len(q.Get("sig")))
	// Output:
	// "42\n1800000300\nreferent.lyon"
	// 1800000300 referent.lyon 64
}
