package basemap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sort"

	"github.com/atigip/atigip360/internal/atigip"
)

// nodeStore keeps node coordinates as sorted 16-byte records (id int64,
// lon int32, lat int32 in 1e-7 degrees) in a file mapped in memory: the
// kernel pages it in and out, so a national extract's hundreds of millions
// of nodes do not sit in the Go heap.
type nodeStore struct {
	f      *os.File
	w      *bufio.Writer
	n      int
	last   int64
	data   []byte
	unmap  func() error
	sorted bool
}

const nodeRec = 16

func newNodeStore(dir string) (*nodeStore, error) {
	f, err := os.CreateTemp(dir, ".basemap-nodes-*")
	if err != nil {
		return nil, fmt.Errorf("basemap: node store: %w", err)
	}
	return &nodeStore{f: f, w: bufio.NewWriterSize(f, 1<<20), last: -1 << 63, sorted: true}, nil
}

func (s *nodeStore) add(id int64, lon, lat float64) error {
	if id <= s.last {
		return atigip.Errorf(atigip.EINVALID, "L'extrait OSM doit être trié par identifiant (osmium sort) : le nœud %d suit le nœud %d.", id, s.last)
	}
	s.last = id
	var b [nodeRec]byte
	binary.LittleEndian.PutUint64(b[:], uint64(id))
	binary.LittleEndian.PutUint32(b[8:], uint32(int32(lon*1e7)))
	binary.LittleEndian.PutUint32(b[12:], uint32(int32(lat*1e7)))
	if _, err := s.w.Write(b[:]); err != nil {
		return fmt.Errorf("basemap: node store: %w", err)
	}
	s.n++
	return nil
}

// seal ends writing and maps the file for lookups.
func (s *nodeStore) seal() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("basemap: node store: %w", err)
	}
	if s.n == 0 {
		return nil
	}
	data, unmap, err := mapFile(s.f, s.n*nodeRec)
	if err != nil {
		return fmt.Errorf("basemap: node store: %w", err)
	}
	s.data, s.unmap = data, unmap
	return nil
}

func (s *nodeStore) id(i int) int64 { return int64(binary.LittleEndian.Uint64(s.data[i*nodeRec:])) }

// get returns the coordinates of node id.
func (s *nodeStore) get(id int64) (lon, lat float64, ok bool) {
	i := sort.Search(s.n, func(i int) bool { return s.id(i) >= id })
	if i == s.n || s.id(i) != id {
		return 0, 0, false
	}
	r := s.data[i*nodeRec:]
	return float64(int32(binary.LittleEndian.Uint32(r[8:]))) / 1e7, float64(int32(binary.LittleEndian.Uint32(r[12:]))) / 1e7, true
}

func (s *nodeStore) close() {
	if s.unmap != nil {
		s.unmap()
	}
	s.f.Close()
	os.Remove(s.f.Name())
}
