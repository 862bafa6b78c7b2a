// Package statefile keeps an engine's state in one file between restarts:
// gob-encoded, written atomically (a crash leaves the old file or the new
// one, never half of one). The engines (tiles, search) decide what they
// save and whether a saved state can be trusted (atigip.FeedMark).
package statefile

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
)

// Save writes v, gob-encoded, to path through a temporary file renamed
// over it.
func Save(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("statefile: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("statefile: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: a no-op
	w := bufio.NewWriterSize(tmp, 1<<16)
	err = gob.NewEncoder(w).Encode(v)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("statefile: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("statefile: %w", err)
	}
	return nil
}

// Load decodes the file at path into v. A missing file gives an error
// matching os.ErrNotExist.
func Load(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("statefile: %w", err)
	}
	defer f.Close()
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16)).Decode(v); err != nil {
		return fmt.Errorf("statefile: read %s: %w", path, err)
	}
	return nil
}
