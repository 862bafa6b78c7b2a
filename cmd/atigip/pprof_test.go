package main

import (
	"strings"
	"testing"
)

// TestServePprofListener: ATIGIP_PPROF_ADDR serves the runtime's profiles
// on a listener of its own, never on the API's.
func TestServePprofListener(t *testing.T) {
	addr := freeAddr(t)
	base := startServer(t, map[string]string{"ATIGIP_PPROF_ADDR": addr})
	code, body, _ := get(t, "http://"+addr+"/debug/pprof/heap?debug=1", "")
	if code != 200 || !strings.Contains(string(body), "heap profile:") {
		t.Fatalf("pprof heap = %d %.200s", code, body)
	}
	if code, _, _ := get(t, "http://"+addr+"/debug/pprof/allocs?debug=1", ""); code != 200 {
		t.Fatalf("pprof allocs = %d", code)
	}
	if code, body, _ := get(t, base+"/debug/pprof/heap?debug=1", ""); code == 200 && strings.Contains(string(body), "heap profile:") {
		t.Fatalf("the API serves the heap profile")
	}
}
