package webhook

import (
	"context"
	"errors"
	"sync"
)

// ErrInProgress, returned by Dedupe.Begin, says the event is being
// handled by another request right now: SuperOffice retried while the
// first attempt still ran. The Handler answers 409, so that SuperOffice
// tries again later, rather than 200, which would lose the event if the
// first attempt then failed.
var ErrInProgress = errors.New("webhook: event is being handled by another request")

// Dedupe remembers which EventIds have been handled, so that a delivery
// SuperOffice retries (with the same EventId) reaches the app once. The
// Handler calls Begin before the app and Done after it; an implementation
// backed by a shared store (a database table keyed by EventId) lets many
// receiver instances share it.
type Dedupe interface {
	// Begin claims eventID. It reports false when the event was handled
	// already, and returns ErrInProgress when it is being handled now;
	// then the app is not called.
	Begin(ctx context.Context, eventID string) (bool, error)
	// Done ends the claim: with handled true the event counts as handled
	// from now on; with false (the app failed) it is forgotten, so that
	// SuperOffice's retry runs it again.
	Done(ctx context.Context, eventID string, handled bool) error
}

// DefaultDedupeSize is how many EventIds a MemoryDedupe made with size 0
// remembers.
const DefaultDedupeSize = 10000

// MemoryDedupe is a Dedupe in memory that remembers the last size handled
// EventIds, forgetting the oldest first. SuperOffice's retries of one
// event arrive within seconds, so a bound of thousands is ample for one
// process; several processes need a shared Dedupe.
type MemoryDedupe struct {
	mu    sync.Mutex
	size  int
	state map[string]bool // false: in progress; true: handled
	ring  []string        // handled ids, oldest at next once full
	next  int
}

var _ Dedupe = (*MemoryDedupe)(nil)

// NewMemoryDedupe returns a MemoryDedupe that remembers size EventIds
// (DefaultDedupeSize when size is 0 or less).
func NewMemoryDedupe(size int) *MemoryDedupe {
	if size <= 0 {
		size = DefaultDedupeSize
	}
	return &MemoryDedupe{size: size, state: make(map[string]bool, size)}
}

// Begin implements Dedupe.
func (d *MemoryDedupe) Begin(_ context.Context, eventID string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if done, seen := d.state[eventID]; seen {
		if !done {
			return false, ErrInProgress
		}
		return false, nil
	}
	d.state[eventID] = false
	return true, nil
}

// Done implements Dedupe.
func (d *MemoryDedupe) Done(_ context.Context, eventID string, handled bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if done, ok := d.state[eventID]; !ok || done {
		return nil
	}
	if !handled {
		delete(d.state, eventID)
		return nil
	}
	d.state[eventID] = true
	if len(d.ring) < d.size {
		d.ring = append(d.ring, eventID)
		return nil
	}
	delete(d.state, d.ring[d.next])
	d.ring[d.next] = eventID
	d.next = (d.next + 1) % d.size
	return nil
}
