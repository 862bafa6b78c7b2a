package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducible regenerates every embedded file from shared/data and checks
// it is byte-identical to the committed one: the data's provenance is exactly
// this program applied to those sources. Skipped where shared/data is absent
// (a user's clone).
func TestReproducible(t *testing.T) {
	src := filepath.Join("..", "..", "..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(src, "communes-fr", "communes.csv")); err != nil {
		t.Skipf("shared data not found at %s", src)
	}
	out := t.TempDir()
	if err := run(src, out); err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob(filepath.Join("..", "..", "data", "*.gz"))
	if err != nil {
		t.Fatal(err)
	}
	generated, err := filepath.Glob(filepath.Join(out, "*.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != len(generated) || len(generated) == 0 {
		t.Fatalf("%d committed files, %d generated", len(committed), len(generated))
	}
	for _, c := range committed {
		name := filepath.Base(c)
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from a fresh generation: run go generate ./internal/refdata", name)
			}
		})
	}
}

func TestRound5(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{4.836101, 4.8361}, {-61.551234567, -61.55123}, {45.0, 45}, {0.000004, 0},
	}
	for _, tt := range tests {
		if got := round5(tt.in); got != tt.want {
			t.Errorf("round5(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
