package basemap_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atigip/atigip360/tiles/basemap"
)

// Import an OpenStreetMap extract into a basemap archive.
func ExampleImport() {
	dir, _ := os.MkdirTemp("", "basemap")
	defer os.RemoveAll(dir)
	st, err := basemap.Import(context.Background(), "testdata/saint-barthelemy-2014.osm.pbf",
		filepath.Join(dir, "basemap.pmtiles"), basemap.Options{MaxZoom: 12})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Nodes, "nodes,", st.Ways, "ways,", st.Relations, "relations; every tile under 100 KB:", st.Over100K == 0)
	// Output: 8076 nodes, 625 ways, 16 relations; every tile under 100 KB: true
}
