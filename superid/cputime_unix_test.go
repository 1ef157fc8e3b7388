//go:build unix

package superid_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time. Reported per operation
// as cpu-ns/op, it compares the benchmarks fairly on a shared, loaded
// machine, where wall time mostly measures waiting for a core (it includes
// the garbage collector's work on other threads, as it should).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
