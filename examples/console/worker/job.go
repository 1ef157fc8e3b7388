package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
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
//
// # A job may run more than once
//
// The worker records a run's end after Run returns. When the process dies
// in between (kill -9, a crash, a lost machine), when the database refuses
// that write, or when the answer to a request that did change the tenant
// is lost (a timeout, a dropped connection: the run is retried), nothing
// tells the next attempt that the work was done, and once the claim's
// lease has run out another instance, or this one, runs the job for the
// tenant again. So Run may be called more than once for the same due run,
// and a job whose work must not happen twice (a company, an order, an
// e-mail) must make itself safe:
//
//  1. Before the side effect, record durably what it is about to do, with
//     what identifies the result (the company's name): Tenant.Intend.
//  2. On an attempt that finds an intent recorded by an earlier one
//     (Intent.Resumed), find out through the API whether the side effect
//     happened (look the company up by that name) and, if it did, report it
//     instead of doing it again.
//
// Once does both; CreateCompany shows it. Reads, and writes that set a
// value rather than add one, are safe to repeat as they are.
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

	// intend records the run's intents; nil outside a worker's run.
	intend func(ctx context.Context, step, plan string) (store.Intent, error)
}

// Intend records durably, before the run does it, that this run is about
// to do step (a name for the side effect, such as "create-company") as
// plan (what identifies its result, such as the company's name), and
// returns the intent. When an earlier attempt of the same due run recorded
// an intent for step and did not get to record its end, it returns that
// intent instead, with its plan and Resumed set: the side effect may have
// happened, and the job should find out before doing it again (see Job,
// and Once, which does both). An intent stands until a success of the
// tenant is recorded.
//
// An error means nothing was recorded, and the side effect must not be
// done: store.ErrLeaseLost when the tenant is no longer this run's (another
// instance took it over), ErrTransient when the database failed.
func (t *Tenant) Intend(ctx context.Context, step, plan string) (store.Intent, error) {
	if t.intend == nil {
		return store.Intent{}, errors.New("worker: Intend needs a Tenant of a worker's run")
	}
	in, err := t.intend(ctx, step, plan)
	switch {
	case err == nil:
		return in, nil
	case errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrInvalid), ctx.Err() != nil:
		return store.Intent{}, fmt.Errorf("worker: recording the run's intent: %w", err)
	}
	return store.Intent{}, fmt.Errorf("worker: recording the run's intent: %w (%w)", err, ErrTransient)
}

// Once does a side effect of a run effectively once, however many times
// the run is attempted (see Job): it records the intent (Tenant.Intend);
// on an attempt that resumes an earlier one's intent it calls find with
// the recorded plan, and if find reports the side effect done, returns its
// result with found set; otherwise it calls do with the plan. Both get the
// recorded plan, not necessarily the one passed in: a resumed run carries
// on with its first attempt's.
//
// find must look at the system of record (the tenant's API), not at
// anything the earlier attempt kept in memory.
func Once[R any](ctx context.Context, t *Tenant, step, plan string,
	find func(ctx context.Context, plan string) (R, bool, error),
	do func(ctx context.Context, plan string) (R, error)) (result R, found bool, err error) {
	in, err := t.Intend(ctx, step, plan)
	if err != nil {
		return result, false, err
	}
	if in.Resumed {
		if result, found, err = find(ctx, in.Plan); err != nil || found {
			return result, found, err
		}
	}
	result, err = do(ctx, in.Plan)
	return result, false, err
}

// CreateCompany is the documented job of SuperOffice's system user sample:
// create a company named "SuperId-<unix seconds>" in the tenant, the
// documented way (the default entity, its name set, saved). It is
// effectively once per due run (see Job): it records the company's name
// before creating it, and an attempt that resumes a run that may have
// created it first looks for a company of that name.
type CreateCompany struct{}

var _ Job = CreateCompany{}

// company is what the job keeps of the company it created or found.
type company struct {
	ID   int
	Name string
}

// Run creates the company, or finds the one an earlier attempt of the
// same run created, and reports its name and id.
func (CreateCompany) Run(ctx context.Context, t *Tenant) (string, error) {
	name := "SuperId-" + strconv.FormatInt(t.Started.Unix(), 10)
	c, found, err := Once(ctx, t, "create-company", name,
		func(ctx context.Context, name string) (company, bool, error) { return findCompany(ctx, t.Client, name) },
		func(ctx context.Context, name string) (company, error) { return createCompany(ctx, t.Client, name) })
	if err != nil {
		return "", err
	}
	if found {
		return fmt.Sprintf("created company %s (id %d) in an earlier attempt of this run", c.Name, c.ID), nil
	}
	return fmt.Sprintf("created company %s (id %d)", c.Name, c.ID), nil
}

// createCompany creates the company named name.
func createCompany(ctx context.Context, client *tenant.Client, name string) (company, error) {
	c, err := webapi.New(client).Contact.CreateCompany(ctx, name)
	if err != nil {
		return company{}, err
	}
	return company{ID: int(c.ContactID), Name: c.Name}, nil
}

// findCompany looks for a company named name through the tenant's OData
// list of companies (PROTOCOL 6.6): GET v1/Contact with $select and
// $filter. It reports the first one whose name is exactly name (the
// server's eq may ignore case).
func findCompany(ctx context.Context, client *tenant.Client, name string) (company, bool, error) {
	type row struct {
		ContactID int    `json:"contactId"`
		Name      string `json:"name"`
	}
	page, err := tenant.List[row](ctx, client, "v1/Contact", &tenant.ListOptions{
		Select: []string{"contactId", "name"},
		Filter: "name eq '" + strings.ReplaceAll(name, "'", "''") + "'",
	})
	if err != nil {
		return company{}, false, err
	}
	for _, r := range page.Value {
		if r.Name == name {
			return company{ID: r.ContactID, Name: r.Name}, true, nil
		}
	}
	return company{}, false, nil
}
