package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"golang.org/x/oauth2"

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
func SystemUser(tickets systemuser.TicketSource, applicationToken string) Credentials {
	return &systemUserCreds{src: tickets, appToken: applicationToken}
}

type systemUserCreds struct {
	src      systemuser.TicketSource
	appToken string
	last     atomic.Pointer[systemuser.Ticket] // the newest ticket handed out
}

// ticketInvalidator is a TicketSource that can drop one given ticket only
// (systemuser's cache is one).
type ticketInvalidator interface {
	InvalidateTicket(*systemuser.Ticket)
}

var _ Credentials = (*systemUserCreds)(nil)

func (c *systemUserCreds) Authorize(ctx context.Context, h http.Header) error {
	if c.src == nil {
		return errors.New("tenant: SystemUser credentials have no ticket source")
	}
	if c.appToken == "" {
		return errors.New("tenant: SystemUser credentials have no application token")
	}
	t, err := c.src.Ticket(ctx)
	if err != nil {
		return fmt.Errorf("tenant: system user ticket: %w", err)
	}
	if t == nil || t.Value == "" {
		return errors.New("tenant: system user ticket: the ticket source returned no ticket")
	}
	if c.last.Load() != t {
		c.last.Store(t)
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
	case last.Value != value:
		// A newer ticket has replaced the refused one already: retry
		// with it rather than throw it away.
	case c.hasInvalidateTicket():
		c.src.(ticketInvalidator).InvalidateTicket(last)
	default:
		c.src.Invalidate()
	}
	return true
}

func (c *systemUserCreds) hasInvalidateTicket() bool {
	_, ok := c.src.(ticketInvalidator)
	return ok
}

// AccessToken returns credentials for a signed-in user: every request
// carries "Authorization: Bearer <access token>" from ts, which refreshes
// the token as x/oauth2 token sources do. A 401 is not retried, as the
// source has no way to force a refresh.
func AccessToken(ts oauth2.TokenSource) Credentials {
	return &accessTokenCreds{ts: ts}
}

type accessTokenCreds struct{ ts oauth2.TokenSource }

var _ Credentials = (*accessTokenCreds)(nil)

func (c *accessTokenCreds) Authorize(_ context.Context, h http.Header) error {
	if c.ts == nil {
		return errors.New("tenant: AccessToken credentials have no token source")
	}
	tok, err := c.ts.Token()
	if err != nil {
		return fmt.Errorf("tenant: access token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return errors.New("tenant: access token: the token source returned no token")
	}
	h["Authorization"] = []string{"Bearer " + tok.AccessToken}
	return nil
}

func (c *accessTokenCreds) Refresh(http.Header) bool { return false }
