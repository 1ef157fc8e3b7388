package worker

import (
	"sync/atomic"
	"time"
)

// Stats is what a cycle has done so far (or did, once it has ended).
type Stats struct {
	// Started is when the cycle started, on the worker's clock.
	Started time.Time
	// Elapsed is the wall time the cycle has run.
	Elapsed time.Duration
	// Due is how many tenants were due and free when the cycle started
	// (other instances may take some of them).
	Due int64
	// Claimed counts the tenants this worker claimed.
	Claimed int64
	// OK, Failed, Retried, Waiting and Deactivated count runs by how they
	// ended; Released counts tenants given back at shutdown, Lost those
	// whose result the store refused because another instance had taken
	// the tenant over, StoreErrors the claims the store failed: a run whose
	// end, or the lease renewal before it, could not be written (the
	// tenant stays claimed until its lease runs out).
	OK, Failed, Retried, Waiting, Deactivated int64
	Released, Lost, StoreErrors               int64
	// Ended is true once the cycle is over.
	Ended bool
}

// Done counts the runs that ended, whichever way.
func (s Stats) Done() int64 {
	return s.OK + s.Failed + s.Retried + s.Waiting + s.Deactivated
}

// Remaining estimates the due tenants not yet run: those due at the start
// less those run since, never below the claimed ones still in hand.
func (s Stats) Remaining() int64 {
	r := s.Due - s.Done() - s.Released - s.Lost - s.StoreErrors
	if inHand := s.Claimed - s.Done() - s.Released - s.Lost - s.StoreErrors; r < inHand {
		r = inHand
	}
	return max(r, 0)
}

// Rate is runs ended per second of wall time.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done()) / s.Elapsed.Seconds()
}

// Stats returns the current (or last) cycle's stats; safe to call from
// any goroutine while the cycle runs.
func (w *Worker) Stats() Stats { return w.cur.Load().snapshot() }

// counters is the live form of Stats.
type counters struct {
	started     time.Time
	startedWall time.Time
	due         atomic.Int64
	claimed     atomic.Int64
	byOutcome   [len(outcomeNames)]atomic.Int64
	released    atomic.Int64
	lost        atomic.Int64
	storeErrs   atomic.Int64
	elapsed     atomic.Int64
	ended       atomic.Bool
}

func (c *counters) add(o outcome) {
	if o == outcomeRelease {
		c.released.Add(1)
		return
	}
	c.byOutcome[o].Add(1)
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Started:     c.started,
		Due:         c.due.Load(),
		Claimed:     c.claimed.Load(),
		OK:          c.byOutcome[outcomeOK].Load(),
		Failed:      c.byOutcome[outcomeFailed].Load(),
		Retried:     c.byOutcome[outcomeRetry].Load(),
		Waiting:     c.byOutcome[outcomeWait].Load(),
		Deactivated: c.byOutcome[outcomeDeactivate].Load(),
		Released:    c.released.Load(),
		Lost:        c.lost.Load(),
		StoreErrors: c.storeErrs.Load(),
		Ended:       c.ended.Load(),
	}
	if s.Ended {
		s.Elapsed = time.Duration(c.elapsed.Load())
	} else if !c.startedWall.IsZero() {
		s.Elapsed = time.Since(c.startedWall)
	}
	return s
}
