package seedtest_test

import (
	"context"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

func count(t *testing.T, s atigip.Store, k atigip.Kind) int {
	t.Helper()
	_, n, err := s.Entities(k).List(context.Background(), atigip.ListFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	empty := seedtest.Empty(t)
	if ok, err := seed.IsSeeded(ctx, empty); err != nil || ok {
		t.Fatalf("Empty: seeded %v, %v", ok, err)
	}
	a, b := seedtest.Store(t, 0.01, 3), seedtest.Store(t, 0.01, 3)
	for _, k := range []atigip.Kind{atigip.KindOrganisation, atigip.KindPost, atigip.KindPerson} {
		t.Run(string(k), func(t *testing.T) {
			na, nb := count(t, a, k), count(t, b, k)
			if na == 0 || na != nb {
				t.Fatalf("%d and %d %s in two stores seeded alike", na, nb, k)
			}
		})
	}
	if count(t, empty, atigip.KindPost) != 0 {
		t.Error("seeding another store wrote into the empty one")
	}
}
