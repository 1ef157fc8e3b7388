package superid

import "time"

// SetKeySetClock lets tests move a key set's clock instead of sleeping
// through its rate limit. Call it before the key set is used.
func SetKeySetClock(k *KeySet, now func() time.Time) { k.now = now }

// SetKeySetFetchTimeout shortens the bound on one key set fetch. Call it
// before the key set is used.
func SetKeySetFetchTimeout(k *KeySet, d time.Duration) { k.fetchTimeout = d }

// WaitKeySetFetch waits for the key set's background renewals to end, so
// tests can tell that one finished (and its goroutine with it).
func WaitKeySetFetch(k *KeySet) { k.renewal.Wait() }
