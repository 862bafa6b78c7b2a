package tiles

import (
	"crypto/sha256"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/statefile"
)

// outlineFormat versions the outline cache: bump it when simplification,
// slicing or packing change (the source outlines are checked by hash).
const outlineFormat = 1

// savedOutlines is the boundary set as kept in the outline cache: parsing,
// simplifying and slicing the IGN outlines costs about 1.5 s of processor
// time at every start, for a result that only the embedded outlines and
// the code decide.
type savedOutlines struct {
	Format                int
	Extent                int
	Source                [sha256.Size]byte
	Regions, Departements []savedOutline
	Bound                 orb.Bound
}

type savedOutline struct {
	ID     int64
	Bound  orb.Bound
	Props  map[string]string
	Levels []savedLevel
}

type savedLevel struct {
	SameAs    int // index of an earlier level this one shares, or -1
	Zoom      int
	Keys      []uint64
	XY, Rings [][]uint32
}

// outlineSource identifies the embedded outlines.
func outlineSource() [sha256.Size]byte {
	h := sha256.New()
	h.Write(refdata.RegionsGeoJSON())
	h.Write(refdata.DepartementsGeoJSON())
	var s [sha256.Size]byte
	copy(s[:], h.Sum(nil))
	return s
}

// cachedBoundarySet reads the boundary set of extent from path when it
// was saved by this format from these outlines, else builds it and saves
// it there (a failed save only costs the next start the build).
func cachedBoundarySet(extent int, path string) (*boundarySet, error) {
	if path == "" {
		return newBoundarySet(extent)
	}
	src := outlineSource()
	var s savedOutlines
	if err := statefile.Load(path, &s); err == nil && s.Format == outlineFormat && s.Extent == extent && s.Source == src {
		return s.set(), nil
	}
	set, err := newBoundarySet(extent)
	if err != nil {
		return nil, err
	}
	if saved, ok := saveOutlines(set, src); ok {
		_ = statefile.Save(path, saved)
	}
	return set, nil
}

func saveOutlines(set *boundarySet, src [sha256.Size]byte) (*savedOutlines, bool) {
	s := &savedOutlines{Format: outlineFormat, Extent: set.extent, Source: src, Bound: set.bound}
	conv := func(outlines []*outline) ([]savedOutline, bool) {
		out := make([]savedOutline, len(outlines))
		for i, o := range outlines {
			so := savedOutline{ID: o.id, Bound: o.bound, Props: map[string]string{}}
			for k, v := range o.props {
				str, ok := v.(string)
				if !ok {
					return nil, false
				}
				so.Props[k] = str
			}
			for z, lv := range o.levels {
				sl := savedLevel{SameAs: -1, Zoom: lv.zoom}
				for j := range z {
					if o.levels[j] == lv {
						sl.SameAs = j
						break
					}
				}
				if sl.SameAs < 0 {
					for k, p := range lv.pieces {
						sl.Keys = append(sl.Keys, k)
						sl.XY = append(sl.XY, p.xy)
						sl.Rings = append(sl.Rings, p.rings)
					}
				}
				so.Levels = append(so.Levels, sl)
			}
			out[i] = so
		}
		return out, true
	}
	var ok bool
	if s.Regions, ok = conv(set.regions); !ok {
		return nil, false
	}
	if s.Departements, ok = conv(set.departements); !ok {
		return nil, false
	}
	return s, true
}

func (s *savedOutlines) set() *boundarySet {
	conv := func(sos []savedOutline) []*outline {
		out := make([]*outline, len(sos))
		for i, so := range sos {
			o := &outline{id: so.ID, bound: so.Bound, props: geojson.Properties{}, levels: make([]*outlineLevel, len(so.Levels))}
			for k, v := range so.Props {
				o.props[k] = v
			}
			for z, sl := range so.Levels {
				if sl.SameAs >= 0 {
					o.levels[z] = o.levels[sl.SameAs]
					continue
				}
				lv := &outlineLevel{zoom: sl.Zoom, pieces: make(map[uint64]packedMP, len(sl.Keys))}
				for j, k := range sl.Keys {
					lv.pieces[k] = packedMP{xy: sl.XY[j], rings: sl.Rings[j]}
				}
				o.levels[z] = lv
			}
			out[i] = o
		}
		return out
	}
	return &boundarySet{extent: s.Extent, regions: conv(s.Regions), departements: conv(s.Departements), bound: s.Bound}
}
