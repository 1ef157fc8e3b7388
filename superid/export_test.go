package superid

import "time"

// SetKeySetClock lets tests move a key set's clock instead of sleeping
// through its rate limit. Call it before the key set is used.
func SetKeySetClock(k *KeySet, now func() time.Time) { k.now = now }

// SetKeySetFetchTimeout shortens the bound on one key set fetch. Call it
// before the key set is used.
func SetKeySetFetchTimeout(k *KeySet, d time.Duration) { k.fetchTimeout = d }

// WaitKeySetFetch waits for the key set's fetch in flight, if any, to end,
// so tests can tell that a background fetch finished (and its goroutine
// with it).
func WaitKeySetFetch(k *KeySet) {
	k.mu.Lock()
	f := k.inflight
	k.mu.Unlock()
	if f != nil {
		<-f.done
	}
}
