package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type state struct {
	Seq   int64
	Names []string
	ByID  map[int64]string
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "engine.state")
	want := state{Seq: 42, Names: []string{"a", "b"}, ByID: map[int64]string{1: "un"}}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"missing file is os.ErrNotExist", func(t *testing.T) {
			var got state
			if err := Load(path, &got); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("Load of a missing file: %v", err)
			}
		}},
		{"round trip, folder created", func(t *testing.T) {
			if err := Save(path, &want); err != nil {
				t.Fatal(err)
			}
			var got state
			if err := Load(path, &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Load = %+v, %v; want %+v", got, err, want)
			}
		}},
		{"a failed save keeps the old file and leaves no temporary", func(t *testing.T) {
			if err := Save(path, func() {}); err == nil { // gob cannot encode a func
				t.Fatal("saving a func succeeded")
			}
			var got state
			if err := Load(path, &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("old state lost: %+v, %v", got, err)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Fatalf("folder holds %d files, want only the state", len(entries))
			}
		}},
		{"damaged file is an error", func(t *testing.T) {
			if err := os.WriteFile(path, []byte("pas un état"), 0o600); err != nil {
				t.Fatal(err)
			}
			var got state
			if err := Load(path, &got); err == nil {
				t.Fatal("a damaged file loaded")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
