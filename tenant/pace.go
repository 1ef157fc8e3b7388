package tenant

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/go-superoffice/superoffice/internal/httpx"
)

// Pacing defaults. SuperOffice's custom-app checklist allows no more than
// 10 API calls per second (PROTOCOL 11), and SuperOffice may throttle
// apps that make more.
const (
	// DefaultRate is the calls per second a tenant gets when
	// PacerConfig.Rate is 0.
	DefaultRate = 10
	// DefaultMaxConcurrent is the calls a tenant may have under way at
	// once when PacerConfig.MaxConcurrent is 0.
	DefaultMaxConcurrent = 10
	// Unlimited as PacerConfig.Rate turns the rate limit off.
	Unlimited = math.MaxFloat64
)

// slowFor is how long a tenant stays at the slower pace after SuperOffice
// last throttled it.
const slowFor = time.Minute

// PacerConfig configures a Pacer. Its zero value paces as SuperOffice's
// checklist asks.
type PacerConfig struct {
	// Rate is how many calls per second each tenant gets; 0 (or a
	// negative rate) means DefaultRate, Unlimited turns the rate limit off
	// (the concurrency cap stays, unless MaxConcurrent is negative).
	Rate float64
	// Burst is how many calls may go at once after a quiet spell; 0 means
	// one second's worth (Rate), and it is never more than that, so that
	// 50 calls at 10 per second take at least 4 seconds.
	Burst int
	// MaxConcurrent caps the calls to one tenant under way at once; 0
	// means DefaultMaxConcurrent, negative means no cap.
	MaxConcurrent int
	// MaxPause, when positive, makes a Retry-After on a 429 or a 503 hold
	// every call to the tenant until it has passed, for at most MaxPause;
	// 0 holds none back (the request that got the answer is retried after
	// its Retry-After, up to RetryPolicy.MaxWait, all the same).
	MaxPause time.Duration
}

// Pacer paces the calls to each tenant: at most Rate calls per second and
// MaxConcurrent under way, per tenant, so that one busy tenant never
// slows another. A caller waits for its turn, never gets an error for it,
// and stops waiting when its ctx ends.
//
// When a tenant answers 429 Too Many Requests, or 503 with Retry-After,
// it gets half its rate with no burst (its calls start one by one; as
// many as MaxConcurrent may still be under way) until a minute passes
// without another such answer (and, with MaxPause, no call until the
// Retry-After has passed). Other tenants keep their pace.
//
// The state is kept by tenant, so every Client of one tenant must share
// one Pacer: a service that makes a Client per tenant run gives them all
// the same Pacer (Config.Pacer), or leaves it nil for the process-wide
// one. It keeps a tenant's state only while a fresh one would differ (a
// call under way, a pause, a slower pace, a spent allowance), so that a
// service calling many tenants in turn holds the recent ones alone. A
// Pacer is safe for concurrent use.
type Pacer struct {
	rate     rate.Limit // 0: unlimited
	burst    int
	conc     int // 0: no cap
	maxPause time.Duration

	mu      sync.Mutex
	tenants map[string]*pace
	sweepAt int // the map size that triggers the next sweep of idle tenants
}

// pace is one tenant's pacing state.
type pace struct {
	lim *rate.Limiter // nil: no rate limit
	// sem caps the calls under way; nil: no cap. A semaphore.Weighted
	// keeps no channel between waits, so a process-wide Pacer also serves
	// tests that run in synctest bubbles, one after the other.
	sem *semaphore.Weighted

	mu       sync.Mutex
	busy     int       // calls under way or waiting
	paused   time.Time // no call starts before
	slowTill time.Time // the rate is halved until
}

// defaultPacer paces the clients whose Config.Pacer is nil.
var defaultPacer = NewPacer(PacerConfig{})

// NewPacer returns a Pacer. A rate or burst out of range is brought into
// range; it does no I/O.
func NewPacer(cfg PacerConfig) *Pacer {
	p := &Pacer{tenants: map[string]*pace{}, sweepAt: 1024}
	switch r := cfg.Rate; {
	case r == 0 || math.IsNaN(r) || r < 0:
		p.rate = DefaultRate
	case r >= Unlimited || math.IsInf(r, 1):
		p.rate = 0
	default:
		p.rate = rate.Limit(r)
	}
	if p.rate > 0 {
		most := max(1, int(math.Ceil(float64(p.rate))))
		p.burst = cfg.Burst
		if p.burst <= 0 || p.burst > most {
			p.burst = most
		}
	}
	switch {
	case cfg.MaxConcurrent == 0:
		p.conc = DefaultMaxConcurrent
	case cfg.MaxConcurrent > 0:
		p.conc = cfg.MaxConcurrent
	}
	p.maxPause = max(cfg.MaxPause, 0)
	return p
}

// tenant returns key's pacing state, marked busy until done is called.
func (p *Pacer) tenant(key string) *pace {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tenants[key]
	if t == nil {
		if len(p.tenants) >= p.sweepAt {
			p.sweepLocked()
		}
		t = &pace{}
		if p.rate > 0 {
			t.lim = rate.NewLimiter(p.rate, p.burst)
		}
		if p.conc > 0 {
			t.sem = semaphore.NewWeighted(int64(p.conc))
		}
		p.tenants[key] = t
	}
	t.mu.Lock()
	t.busy++
	t.mu.Unlock()
	return t
}

// sweepLocked forgets the tenants that a fresh state would serve alike:
// no call under way or waiting, no pause or slower pace left, and a
// limiter full again (a second after its last call, at the default
// rate). A service that calls many tenants in turn so keeps only the
// recent ones, and one that is throttled keeps its slower pace.
func (p *Pacer) sweepLocked() {
	now := time.Now()
	for k, t := range p.tenants {
		t.mu.Lock()
		idle := t.busy == 0 && !now.Before(t.paused) && !now.Before(t.slowTill) &&
			(t.lim == nil || !t.slowTill.IsZero() || t.lim.TokensAt(now) >= float64(p.burst))
		t.mu.Unlock()
		if idle {
			delete(p.tenants, k)
		}
	}
	p.sweepAt = max(1024, 2*len(p.tenants))
}

// done ends a call that wait let start.
func (t *pace) done() {
	if t.sem != nil {
		t.sem.Release(1)
	}
	t.untrack()
}

// untrack ends a call that was counted as busy by Pacer.tenant.
func (t *pace) untrack() {
	t.mu.Lock()
	t.busy--
	t.mu.Unlock()
}

// wait waits for key's turn and returns the tenant's state, whose done
// ends the call; or ctx's error, when ctx ends first.
func (p *Pacer) wait(ctx context.Context, key string) (*pace, error) {
	t := p.tenant(key)
	if t.sem != nil {
		if err := t.sem.Acquire(ctx, 1); err != nil {
			t.untrack()
			return nil, err
		}
	}
	for {
		now := time.Now()
		t.mu.Lock()
		if now.Before(t.paused) { // a Retry-After holds the tenant (MaxPause)
			d := t.paused.Sub(now)
			t.mu.Unlock()
			if err := sleep(ctx, d); err != nil {
				t.done()
				return nil, err
			}
			continue
		}
		var r *rate.Reservation
		if t.lim != nil {
			if !t.slowTill.IsZero() && !now.Before(t.slowTill) {
				// A minute without throttling: back to the full pace,
				// with the burst a quiet minute would have filled.
				t.lim = rate.NewLimiter(p.rate, p.burst)
				t.slowTill = time.Time{}
			}
			r = t.lim.ReserveN(now, 1)
		}
		t.mu.Unlock()
		if r == nil {
			return t, nil
		}
		if err := sleep(ctx, r.DelayFrom(now)); err != nil {
			// A caller that leaves gives its turn back.
			r.CancelAt(time.Now())
			t.done()
			return nil, err
		}
		return t, nil
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// throttled slows key down after resp, a 429 or a 503 with Retry-After.
func (p *Pacer) throttled(key string, resp *http.Response) {
	wait, ok := httpx.ServerWait(resp, time.Now())
	if !ok && resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	p.mu.Lock()
	t := p.tenants[key]
	p.mu.Unlock()
	if t == nil {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if until := now.Add(min(wait, p.maxPause)); p.maxPause > 0 && until.After(t.paused) {
		t.paused = until
	}
	if t.lim != nil {
		if t.slowTill.IsZero() {
			t.lim.SetLimitAt(now, p.rate/2)
			t.lim.SetBurstAt(now, 1)
		}
		t.slowTill = now.Add(slowFor)
	}
}

// pacedTransport paces and counts every request it sends for one tenant,
// the retries of the HTTP client included.
type pacedTransport struct {
	base  http.RoundTripper
	pacer *Pacer // nil: not paced
	key   string // the pacer's key for the tenant
	meter *meterEntry
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.pacer != nil {
		tp, err := t.pacer.wait(req.Context(), t.key)
		if err != nil {
			if req.Body != nil {
				_ = req.Body.Close() // as a RoundTripper must
			}
			return nil, err
		}
		defer tp.done()
	}
	t.meter.inc(countCall)
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			t.meter.inc(countRateLimited)
			fallthrough
		case http.StatusServiceUnavailable:
			if t.pacer != nil {
				t.pacer.throttled(t.key, resp)
			}
		}
	}
	return resp, err
}
