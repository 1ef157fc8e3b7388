package systemuser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-superoffice/superoffice/superid"
)

// TicketSource returns the TicketSource of one tenant: it exchanges the
// tenant's system user token only when it holds no live ticket, and shares
// that one exchange among every goroutine that asks meanwhile. A ticket is
// handed out until it has been idle (not asked for) for the ticket
// lifetime less Config.RenewBefore; SuperOffice slides its six-hour life on
// every use, so a busy ticket lives on. After a 401 from the tenant API,
// call Invalidate (or InvalidateTicket with the ticket that failed) to get
// a new one.
//
// Calls with the same context identifier and token (and options) return
// the same source, so that tenant clients created at different places
// still share one ticket. A new token for the tenant (after a new
// approval) replaces its source.
//
// The *Ticket that Ticket returns is shared; do not modify it.
func (c *Client) TicketSource(contextID, systemUserToken string, opts ...ExchangeOption) TicketSource {
	switch {
	case c == nil || c.sources == nil:
		return errSource{errors.New("systemuser: Client not created with New")}
	case !superid.ValidContextIdentifier(contextID):
		// Checked here, so that no error of the source ever quotes a
		// value that may be a swapped system user token.
		return errSource{errContextID}
	case systemUserToken == "":
		return errSource{errEmptyToken}
	}
	var o exchangeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	key := strings.ToLower(contextID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sources[key]; s != nil && strings.EqualFold(s.contextID, contextID) && s.token == systemUserToken && s.opts == o {
		return s
	}
	s := &cachedSource{c: c, contextID: contextID, token: systemUserToken, opts: o}
	c.sources[key] = s
	return s
}

// errSource is the TicketSource of a request that cannot succeed: every
// Ticket call returns its error, and nothing is exchanged.
type errSource struct{ err error }

func (s errSource) Ticket(context.Context) (*Ticket, error) { return nil, s.err }
func (s errSource) Invalidate()                             {}

// cachedSource is the TicketSource of one tenant. Its hot path is one
// atomic load, one clock read and (at most once a second) one atomic
// store, so that a cached hit neither locks nor allocates.
type cachedSource struct {
	c         *Client
	contextID string
	token     string
	opts      exchangeOptions

	cur atomic.Pointer[cachedTicket]

	// mu guards flight, the exchange under way (nil when none): every
	// goroutine that finds no live ticket meanwhile waits for that one
	// exchange. It is what singleflight would keep, without a map that
	// stays allocated per tenant after its one exchange.
	mu     sync.Mutex
	flight *ticketFlight
}

// ticketFlight is one exchange and its waiters: done is closed when t and
// err are set.
type ticketFlight struct {
	done chan struct{}
	t    *Ticket
	err  error
}

type cachedTicket struct {
	t       *Ticket
	lastUse atomic.Int64 // Client.elapsed at the last hand-out
}

var _ TicketSource = (*cachedSource)(nil)

// lastUseGranularity is how stale lastUse may get: writing it on every hit
// would make every core fight over one cache line for nothing.
const lastUseGranularity = int64(1e9)

// Ticket returns the tenant's ticket, exchanging for one when there is
// none or it has idled too long. Waiting for an exchange ends with ctx; the
// exchange itself goes on for the other waiters and the cache.
func (s *cachedSource) Ticket(ctx context.Context) (*Ticket, error) {
	if ctx == nil {
		// Refused before the lock: refresh would panic holding it, and
		// every later caller for this tenant would wait on it for good.
		return nil, errNilContext
	}
	if e := s.cur.Load(); e != nil {
		now := s.c.elapsed()
		last := e.lastUse.Load()
		if now-last < int64(s.c.reuseFor) {
			if now-last > lastUseGranularity {
				e.lastUse.CompareAndSwap(last, now)
			}
			return e.t, nil
		}
	}
	return s.refresh(ctx)
}

func (s *cachedSource) refresh(ctx context.Context) (*Ticket, error) {
	s.mu.Lock()
	f := s.flight
	if f == nil {
		// A flight that ended between our Load and the lock may have left
		// a fresh ticket; exchanging again would waste a ticket.
		if e := s.cur.Load(); e != nil && s.c.elapsed()-e.lastUse.Load() < int64(s.c.reuseFor) {
			s.mu.Unlock()
			return e.t, nil
		}
		f = &ticketFlight{done: make(chan struct{})}
		s.flight = f
		// The exchange outlives the caller's ctx, as others may be
		// waiting for it; ExchangeTimeout bounds it.
		go s.exchange(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.t, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("systemuser: waiting for a ticket for %s: %w", s.contextID, ctx.Err())
	}
}

// exchange runs flight f: the ticket it gets is cached before the flight
// ends, so that a caller who comes after the flight finds it.
func (s *cachedSource) exchange(ctx context.Context, f *ticketFlight) {
	xctx, cancel := context.WithTimeout(ctx, s.c.xchTimeout)
	f.t, f.err = s.c.exchange(xctx, s.contextID, s.token, s.opts)
	var e *Error
	if xctx.Err() != nil && errors.As(f.err, &e) && e.kind == nil {
		// ctx cannot end (WithoutCancel): ExchangeTimeout ran out, so
		// SuperID did not answer in time. Exchange leaves that kind-less,
		// as its caller's deadline; here the waiters' ctx are live.
		e.kind = ErrUnavailable
	}
	cancel()
	if f.err == nil {
		e := &cachedTicket{t: f.t}
		e.lastUse.Store(s.c.elapsed())
		s.cur.Store(e)
	}
	s.mu.Lock()
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// Invalidate drops the current ticket, so that the next Ticket call
// exchanges for a new one. When many requests may fail with the same
// ticket at once, InvalidateTicket is better: it cannot drop the new ticket
// that another goroutine has already fetched.
func (s *cachedSource) Invalidate() { s.cur.Store(nil) }

// InvalidateTicket drops t if it is still the current ticket, and does
// nothing otherwise (a newer ticket has replaced it already).
func (s *cachedSource) InvalidateTicket(t *Ticket) {
	if e := s.cur.Load(); e != nil && e.t == t {
		s.cur.CompareAndSwap(e, nil)
	}
}

// ReuseWindow is how long a ticket may go unused and still be handed out:
// Config.TicketLifetime less Config.RenewBefore. A TicketSource of one's
// own, such as one that keeps tickets in a database that several
// processes share, judges a stored ticket by it, as the cache here does.
// It is 0 for a Client not made by New.
func (c *Client) ReuseWindow() time.Duration {
	if c == nil {
		return 0
	}
	return c.reuseFor
}
