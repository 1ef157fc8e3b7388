package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// Job is the work done for one tenant in each cycle. The worker has already
// exchanged the tenant's system user token for a ticket (or found a live
// one in the store) and checked that the tenant is running; Run calls the
// tenant through t.Client, which carries the ticket.
//
// Run returns a short summary of what it did, stored as the tenant's last
// result, or an error. The worker sorts errors by what they wrap (see
// Worker): the tenant and systemuser sentinels, context.DeadlineExceeded,
// and ErrTransient for a job's own "try again later". Neither the summary
// nor the error may hold a secret: both are stored and logged.
//
// Run may be called for many tenants at once, from several goroutines.
type Job interface {
	Run(ctx context.Context, t *Tenant) (summary string, err error)
}

// JobFunc adapts a function to Job.
type JobFunc func(ctx context.Context, t *Tenant) (string, error)

// Run calls f.
func (f JobFunc) Run(ctx context.Context, t *Tenant) (string, error) { return f(ctx, t) }

// ErrTransient marks a job error as worth retrying soon (with backoff)
// rather than at the next regular run: wrap it, as in
// fmt.Errorf("inventory: %w", worker.ErrTransient).
var ErrTransient = errors.New("worker: transient failure")

// Tenant is what a Job gets for one tenant. It holds no secret: the
// ticket travels inside Client.
type Tenant struct {
	// ContextIdentifier is the tenant, CustNNNNN.
	ContextIdentifier string
	// Serial and CompanyName are what the approval stored.
	Serial      string
	CompanyName string
	// LastSync is when a run for this tenant last succeeded; zero: never.
	LastSync time.Time
	// State is the tenant's state, as the state API answered at the start
	// of this run. The tenant is running.
	State *tenant.State
	// Client calls the tenant's web services as its system user.
	Client *tenant.Client
	// Started is when this run started, on the worker's clock.
	Started time.Time
}

// CreateCompany is the documented job of SuperOffice's system user sample:
// create a company named "SuperId-<unix seconds>" in the tenant, the
// documented way (the default entity, its name set, saved).
type CreateCompany struct{}

var _ Job = CreateCompany{}

// Run creates the company and reports its name and id.
func (CreateCompany) Run(ctx context.Context, t *Tenant) (string, error) {
	name := "SuperId-" + strconv.FormatInt(t.Started.Unix(), 10)
	c, err := webapi.New(t.Client).Contact.CreateCompany(ctx, name)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("created company %s (id %d)", c.Name, c.ContactID), nil
}
