//go:build !unix

package search

import "time"

// processCPU is unknown here: the benchmarks then report no CPU time.
func processCPU() time.Duration { return 0 }
