package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// TestHostedIndexFollowsTheStore compares the index with the scan after
// each change, on both stores: a measure started, moved to another post,
// closed, and a new measure assigned.
func TestHostedIndexFollowsTheStore(t *testing.T) {
	for name, open := range wftest.Stores {
		t.Run(name, func(t *testing.T) { hostedIndexFollows(t, open(t)) })
	}
}

func hostedIndexFollows(t *testing.T, s atigip.Store) {
	ctx := context.Background()
	w := wftest.Build(t, s)
	other := *w.Post
	other.ID, other.Version, other.Title = 0, 0, "Bibliothèque"
	if err := s.Entities(atigip.KindPost).Create(ctx, &other); err != nil {
		t.Fatal(err)
	}
	posts := map[int64]*atigip.Post{w.Post.ID: w.Post}
	x := &workflow.HostedIndex{Store: s}
	same := func(step string) {
		t.Helper()
		want, err := workflow.HostedOn(ctx, s, posts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.HostedOn(ctx, posts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: index %d, scan %d", step, len(got), len(want))
		}
		for i := range got {
			if got[i].Measure.ID != want[i].Measure.ID {
				t.Fatalf("%s: index %d, scan %d", step, got[i].Measure.ID, want[i].Measure.ID)
			}
		}
	}
	same("to place")
	m := w.Measure
	update := func(f func()) {
		t.Helper()
		f()
		if err := s.Entities(atigip.KindMeasure).Update(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	update(func() {
		m.State, m.PostID, m.StartDate = atigip.MeasureInProgress, w.Post.ID, atigip.DateOf(time.Now())
	})
	same("in progress")
	if got, _ := x.HostedOn(ctx, posts); len(got) != 1 {
		t.Fatalf("hosted after start: %d", len(got))
	}
	update(func() { m.PostID = other.ID })
	same("moved")
	update(func() { m.PostID = w.Post.ID; m.State = atigip.MeasureClosedFailed })
	same("closed")
	n := &atigip.Measure{PersonID: w.Person.ID, HoursOrdered: 30, SentenceDate: m.SentenceDate, State: atigip.MeasureAssigned,
		PostID: w.Post.ID, Departement: "69"}
	if err := s.Entities(atigip.KindMeasure).Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	same("new")
	if got, _ := x.HostedOn(ctx, posts); len(got) != 1 || got[0].Measure.ID != n.ID {
		t.Fatalf("new measure not found: %+v", got)
	}
}
