package superid

import "time"

// SetKeySetClock lets tests move a key set's clock instead of sleeping
// through its rate limit. Call it before the key set is used.
func SetKeySetClock(k *KeySet, now func() time.Time) { k.now = now }
