//go:build !unix

package ui

import "time"

// ingestCPU is not measured here; the benchmark then reports no CPU metric.
func ingestCPU() time.Duration { return 0 }
