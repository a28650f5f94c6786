package lifecycle

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

// Garbage collector defaults for the daemon, used unless GOGC or
// GOMEMLIMIT is set in the environment. Sending allocates a few KB per
// message that die at once, so with Go's default GOGC=100 the collector
// ran every few hundred messages and took about a quarter of the sender's
// CPU; GOGC=400 cut it from 86 to 62 µs per message (docs/BENCHMARKS.md)
// while the heap stays in tens of MB. The soft memory limit makes the
// collector work harder before the process grows past it.
const (
	GCPercent   = 400
	MemoryLimit = 64 << 20
)

// TuneGC sets the daemon's garbage collector defaults (GCPercent,
// MemoryLimit) where the environment sets none.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}

// StartCPUProfile writes the process's CPU profile to path until the
// returned function is called (KAWARABAN_CPUPROFILE, for benchmarks:
// docs/BENCHMARKS.md).
func StartCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("KAWARABAN_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("KAWARABAN_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
