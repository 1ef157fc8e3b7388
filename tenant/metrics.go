package tenant

import (
	"encoding/json"
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Counters are what a Meter has counted for one tenant (or, from Total,
// for all of them).
type Counters struct {
	// Calls is the HTTP requests sent to the tenant's API, each retry
	// included.
	Calls int64
	// Retries is the requests sent again: by the retry policy (after a
	// connection error, a 429 or a 5xx), with a fresh ticket after a 401,
	// or at the tenant's new host after a 421.
	Retries int64
	// RateLimited is the 429 Too Many Requests answers.
	RateLimited int64
	// Exchanges is the times the tenant's calls began to carry new
	// credentials: a new system user ticket (an exchange at SuperID, by
	// this process or, for a ticket kept in a store, by another) or a
	// refreshed access token. The first call counts one.
	Exchanges int64
	// StateLookups is the requests to the tenant state API.
	StateLookups int64
}

// Meter counts calls per tenant for the clients and resolvers that share
// it (Config.Meter, ResolverConfig.Meter). It keeps numbers and the
// tenants' context identifiers only: no URL, credential or body.
//
// Meter is an expvar.Var: expvar.Publish("superoffice", meter) serves the
// counters as JSON on /debug/vars. It is safe for concurrent use; the
// zero value is not, create it with NewMeter.
type Meter struct {
	seed    maphash.Seed
	mu      sync.RWMutex
	tenants map[string]*meterEntry // by lower-case key
}

type meterEntry struct {
	name string
	n    [nCounters]atomic.Int64
	cred atomic.Uint64 // a hash of the last credentials seen
	seed maphash.Seed
}

// The counters of a meterEntry.
const (
	countCall = iota
	countRetry
	countRateLimited
	countExchange
	countStateLookup
	nCounters
)

// NewMeter returns an empty Meter.
func NewMeter() *Meter {
	return &Meter{seed: maphash.MakeSeed(), tenants: map[string]*meterEntry{}}
}

// entry returns name's counters, made on first use; nil for a nil Meter,
// whose counting does nothing.
func (m *Meter) entry(name string) *meterEntry {
	if m == nil || m.tenants == nil {
		return nil
	}
	key := strings.ToLower(name)
	m.mu.RLock()
	e := m.tenants[key]
	m.mu.RUnlock()
	if e != nil {
		return e
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e = m.tenants[key]; e == nil {
		e = &meterEntry{name: name, seed: m.seed}
		m.tenants[key] = e
	}
	return e
}

// inc adds one to counter k; a nil entry counts nothing.
func (e *meterEntry) inc(k int) {
	if e != nil {
		e.n[k].Add(1)
	}
}

// credentials counts an exchange when auth, an Authorization header,
// differs from the last one seen. Only its hash is kept.
func (e *meterEntry) credentials(auth string) {
	if e == nil || auth == "" {
		return
	}
	h := maphash.String(e.seed, auth) | 1 // never the zero of "none seen"
	if e.cred.Swap(h) != h {
		e.n[countExchange].Add(1)
	}
}

func (e *meterEntry) counters() Counters {
	return Counters{
		Calls:        e.n[countCall].Load(),
		Retries:      e.n[countRetry].Load(),
		RateLimited:  e.n[countRateLimited].Load(),
		Exchanges:    e.n[countExchange].Load(),
		StateLookups: e.n[countStateLookup].Load(),
	}
}

// Tenant returns the counters of the tenant contextID (any case).
func (m *Meter) Tenant(contextID string) Counters {
	if m == nil {
		return Counters{}
	}
	m.mu.RLock()
	e := m.tenants[strings.ToLower(contextID)]
	m.mu.RUnlock()
	if e == nil {
		return Counters{}
	}
	return e.counters()
}

// All yields every tenant counted so far, by context identifier in
// sorted order, with its counters. A client with a fixed BaseURL whose
// path does not start with the context identifier counts under its
// BaseURL.
func (m *Meter) All() iter.Seq2[string, Counters] {
	return func(yield func(string, Counters) bool) {
		if m == nil {
			return
		}
		m.mu.RLock()
		entries := slices.Collect(maps.Values(m.tenants))
		m.mu.RUnlock()
		slices.SortFunc(entries, func(a, b *meterEntry) int { return strings.Compare(a.name, b.name) })
		for _, e := range entries {
			if !yield(e.name, e.counters()) {
				return
			}
		}
	}
}

// Total returns the sum of every tenant's counters.
func (m *Meter) Total() Counters {
	var t Counters
	for _, c := range m.All() {
		t.Calls += c.Calls
		t.Retries += c.Retries
		t.RateLimited += c.RateLimited
		t.Exchanges += c.Exchanges
		t.StateLookups += c.StateLookups
	}
	return t
}

// String returns the counters as a JSON object by tenant, so that a Meter
// is an expvar.Var.
func (m *Meter) String() string {
	out := map[string]Counters{}
	for name, c := range m.All() {
		out[name] = c
	}
	b, _ := json.Marshal(out) // a map of plain structs always encodes
	return string(b)
}
