package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/internal/flight"
	"github.com/go-superoffice/superoffice/systemuser"
)

// Credentials authorize requests to the tenant. SystemUser and
// AccessToken cover SuperOffice Online; implement it for anything else.
type Credentials interface {
	// Authorize sets the authorization headers of one request.
	Authorize(ctx context.Context, h http.Header) error
	// Refresh is called once after a 401, with the headers Authorize set
	// on the refused request. It reports whether fresh credentials are
	// worth one more try of the request.
	Refresh(refused http.Header) bool
}

// SystemUser returns credentials for the tenant's system user: every
// request carries "Authorization: SOTicket <ticket>" and "SO-AppToken:
// <applicationToken>" (the app's client secret). After a 401 the ticket
// is invalidated and the request is sent once more with a new one. When
// many requests fail with one ticket at once, only the first invalidates
// it (with the source's InvalidateTicket, when it has one), so they share
// one new exchange.
//
// A 401 on a ticket that is fresh is returned (ErrUnauthorized) without
// invalidating it: a ticket issued less than a minute ago (by its
// IssuedAt, compared with the local clock), or the one fetched after
// this value's own last invalidation, less than a minute ago. Such a 401
// does not come from an expired ticket but from something a new one
// cannot fix (a wrong applicationToken, say), and each new ticket costs
// an exchange at SuperID. New refuses SystemUser credentials without a
// ticket source or with an empty applicationToken.
func SystemUser(tickets systemuser.TicketSource, applicationToken string) Credentials {
	return &systemUserCreds{src: tickets, appToken: applicationToken, now: time.Now}
}

// freshTicket is how long after it was issued (or fetched after a 401) a
// ticket is not invalidated after a 401.
const freshTicket = time.Minute

type systemUserCreds struct {
	src      systemuser.TicketSource
	appToken string
	now      func() time.Time

	last atomic.Pointer[seenTicket] // the newest ticket handed out

	mu          sync.Mutex
	invalidated time.Time // when Refresh last invalidated a ticket
}

// seenTicket is a ticket and when these credentials first handed it out.
type seenTicket struct {
	t  *systemuser.Ticket
	at time.Time
}

// ticketInvalidator is a TicketSource that can drop one given ticket only
// (systemuser's cache is one).
type ticketInvalidator interface {
	InvalidateTicket(*systemuser.Ticket)
}

var _ Credentials = (*systemUserCreds)(nil)

// check reports what New refuses.
func (c *systemUserCreds) check() error {
	switch {
	case c.src == nil:
		return errors.New("tenant: SystemUser credentials have no ticket source")
	case strings.TrimSpace(c.appToken) == "":
		return errors.New("tenant: SystemUser credentials have an empty application token (the app's client secret)")
	}
	return nil
}

func (c *systemUserCreds) Authorize(ctx context.Context, h http.Header) error {
	if err := c.check(); err != nil {
		return err
	}
	if ctx == nil || h == nil {
		return errors.New("tenant: Authorize needs a ctx and a header")
	}
	t, err := c.src.Ticket(ctx)
	if err != nil {
		return fmt.Errorf("tenant: system user ticket: %w", err)
	}
	if t == nil || t.Value == "" {
		return errors.New("tenant: system user ticket: the ticket source returned no ticket")
	}
	if s := c.last.Load(); s == nil || s.t != t {
		at := c.now()
		if s != nil && s.t.Value == t.Value {
			at = s.at // the same ticket in a new struct
		}
		c.last.Store(&seenTicket{t: t, at: at})
	}
	h["Authorization"] = []string{"SOTicket " + t.Value}
	h["So-Apptoken"] = []string{c.appToken}
	return nil
}

func (c *systemUserCreds) Refresh(refused http.Header) bool {
	if c.src == nil {
		return false
	}
	value, _ := strings.CutPrefix(refused.Get("Authorization"), "SOTicket ")
	last := c.last.Load()
	switch {
	case last == nil || value == "":
		c.src.Invalidate()
	case last.t.Value != value:
		// A newer ticket has replaced the refused one already: retry
		// with it rather than throw it away.
		return true
	case c.fresh(last):
		return false
	case c.hasInvalidateTicket():
		c.src.(ticketInvalidator).InvalidateTicket(last.t)
	default:
		c.src.Invalidate()
	}
	c.mu.Lock()
	c.invalidated = c.now()
	c.mu.Unlock()
	return true
}

// fresh reports whether a refused ticket is too new for its 401 to mean
// that it expired.
func (c *systemUserCreds) fresh(s *seenTicket) bool {
	now := c.now()
	if iat := s.t.IssuedAt; !iat.IsZero() {
		if d := now.Sub(iat); d >= 0 && d < freshTicket {
			return true
		}
	}
	c.mu.Lock()
	inv := c.invalidated
	c.mu.Unlock()
	return !inv.IsZero() && !s.at.Before(inv) && now.Sub(s.at) < freshTicket
}

func (c *systemUserCreds) hasInvalidateTicket() bool {
	_, ok := c.src.(ticketInvalidator)
	return ok
}

// AccessToken returns credentials for a signed-in user: every request
// carries "Authorization: Bearer <access token>" from ts, which refreshes
// the token as x/oauth2 token sources do. A 401 is not retried, as the
// source has no way to force a refresh.
//
// Concurrent requests share one call to Token. oauth2.TokenSource has no
// ctx, so a refresh cannot be cancelled: a request whose ctx ends while ts
// refreshes returns the ctx's error at once, and the refresh goes on in
// the background (bounded by the HTTP client ts uses) for the requests
// still waiting.
func AccessToken(ts oauth2.TokenSource) Credentials {
	return &accessTokenCreds{ts: ts}
}

type accessTokenCreds struct {
	ts      oauth2.TokenSource
	refresh flight.Group[*oauth2.Token]
}

var _ Credentials = (*accessTokenCreds)(nil)

func (c *accessTokenCreds) Authorize(ctx context.Context, h http.Header) error {
	if c.ts == nil {
		return errors.New("tenant: AccessToken credentials have no token source")
	}
	if ctx == nil || h == nil {
		return errors.New("tenant: Authorize needs a ctx and a header")
	}
	tok, err := c.token(ctx)
	if err != nil {
		return fmt.Errorf("tenant: access token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return errors.New("tenant: access token: the token source returned no token")
	}
	h["Authorization"] = []string{"Bearer " + tok.AccessToken}
	return nil
}

// token calls Token, waiting no longer than ctx allows.
func (c *accessTokenCreds) token(ctx context.Context) (*oauth2.Token, error) {
	return c.refresh.Do(ctx, "", func(context.Context) (*oauth2.Token, error) { return c.ts.Token() })
}

func (c *accessTokenCreds) Refresh(http.Header) bool { return false }
