//go:build !unix

package basemap

import (
	"io"
	"os"
)

// mapFile reads the first n bytes of f (no mmap here: the heap holds them).
func mapFile(f *os.File, n int) ([]byte, func() error, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(n)), b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
