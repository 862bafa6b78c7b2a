package search

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	db := openStore(t, testScale)
	ix := builtIndex(t, db, t.TempDir()+"/ix")
	for _, q := range strings.Split(os.Getenv("PROBE"), "|") {
		res, err := ix.Search(context.Background(), Request{Query: q, PerPage: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("== %q total %d took %v", q, res.Total, res.Took)
		for _, h := range res.Hits {
			t.Logf("   %.3f %s %s | %s | %v", h.Score, h.Type, h.Title, h.Parent, h.ROME)
		}
	}
}
