package refdata

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

//go:embed data/*.gz
var dataFS embed.FS

// readGz returns the decompressed content of an embedded file.
func readGz(name string) ([]byte, error) {
	raw, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("refdata: %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("refdata: %s: %w", name, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("refdata: %s: %w", name, err)
	}
	return out, nil
}

// eachRecord decodes an embedded gzip CSV, checks its header and calls fn for
// every data record. The record slice is reused between calls, but its
// strings are not, so fn may keep them.
func eachRecord(name string, header []string, fn func(rec []string) error) error {
	raw, err := readGz(name)
	if err != nil {
		return err
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.ReuseRecord = true
	r.FieldsPerRecord = len(header)
	first, err := r.Read()
	if err != nil {
		return fmt.Errorf("refdata: %s: header: %w", name, err)
	}
	for i, h := range header {
		if first[i] != h {
			return fmt.Errorf("refdata: %s: column %d is %q, want %q", name, i, first[i], h)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("refdata: %s: %w", name, err)
		}
		if err := fn(rec); err != nil {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("refdata: %s line %d: %w", name, line, err)
		}
	}
}

func mustLoad(err error) {
	if err != nil {
		panic(err)
	}
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q: %w", s, err)
	}
	return f, nil
}

func parseInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad integer %q: %w", s, err)
	}
	return n, nil
}
