package systemuser

import (
	"context"
	"time"
)

// Ticket is a validated system user ticket and what the system-user JWT
// said about the tenant it is for.
type Ticket struct {
	// Value is the ticket itself, sent as "Authorization: SOTicket <Value>".
	// It is a credential: never log it.
	Value             string
	ContextIdentifier string    // the tenant, CustNNNNN
	Serial            string    // the tenant database's serial number
	WebAPIURL         string    // the tenant's REST base URL, ending in /api/
	NetServerURL      string    // the tenant's SOAP base URL
	Expiry            time.Time // when the JWT that carried the ticket expires
	IssuedAt          time.Time // when the exchange returned it
}

// TicketSource supplies the system user ticket of one tenant. The tenant
// client calls Ticket before each request and Invalidate after a 401.
type TicketSource interface {
	// Ticket returns a ticket, exchanging for a new one only when needed.
	Ticket(ctx context.Context) (*Ticket, error)
	// Invalidate drops the current ticket, so that the next Ticket call
	// exchanges for a new one.
	Invalidate()
}
