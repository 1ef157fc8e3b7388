package main

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// flashes keep each action's outcome until the home page shows it, once.
// They live in memory, keyed by the session and a random nonce that the
// redirect after the action carries, and not in the session: showing an
// outcome then writes nothing, and an action that did not change the
// user's tokens does not rewrite the session either, so two tabs cannot
// put back each other's older tokens.
//
// The honest limit: another instance behind a load balancer, or this one
// after a restart, does not have the outcome, and the page shows none (the
// company exists all the same). A partner running several instances would
// keep flashes in the database or a short-lived sealed cookie instead.
type flashes struct {
	mu  sync.Mutex
	m   map[string]flash
	now func() time.Time
}

type flash struct {
	res     *actionResult
	expires time.Time
}

const (
	flashTTL  = 5 * time.Minute // an outcome not shown by then is dropped
	maxFlash  = 10000           // bounds the memory a flood of actions takes
	flashPath = "/?done="       // where an action redirects, before the nonce
)

func newFlashes(now func() time.Time) *flashes {
	return &flashes{m: map[string]flash{}, now: now}
}

// flashKey binds a nonce to its session: a nonce seen in another
// browser's history shows nothing there. The session id is hashed, so that
// the map holds no live session id.
func flashKey(sessionID, nonce string) string {
	h := sha256.Sum256([]byte(sessionID + "\x00" + nonce))
	return hex.EncodeToString(h[:])
}

// put keeps res for the session and returns the nonce that takes it back.
func (f *flashes) put(sessionID string, res *actionResult) string {
	nonce := randomToken()
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.m {
		if now.After(v.expires) {
			delete(f.m, k)
		}
	}
	for k := range f.m { // still full: drop arbitrary ones
		if len(f.m) < maxFlash {
			break
		}
		delete(f.m, k)
	}
	f.m[flashKey(sessionID, nonce)] = flash{res: res, expires: now.Add(flashTTL)}
	return nonce
}

// take returns the session's outcome for nonce and forgets it, or nil.
func (f *flashes) take(sessionID, nonce string) *actionResult {
	if nonce == "" {
		return nil
	}
	key := flashKey(sessionID, nonce)
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	delete(f.m, key)
	if !ok || f.now().After(v.expires) {
		return nil
	}
	return v.res
}
