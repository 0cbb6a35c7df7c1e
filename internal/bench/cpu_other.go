//go:build !unix

package bench

import "time"

// processCPU is unknown here: the load generator's CPU is not reported.
func processCPU() time.Duration { return 0 }
