package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// outcome is how a run ends in the store.
type outcome int

const (
	outcomeOK         outcome = iota // Complete: success
	outcomeFailed                    // Complete with the error; next run as usual
	outcomeRetry                     // Reschedule with backoff
	outcomeWait                      // Postpone until the tenant is available
	outcomeDeactivate                // Complete with Deactivate and the reason
	outcomeRelease                   // Release: shutting down before the run could end
)

var outcomeNames = [...]string{"ok", "failed", "retry", "waiting", "deactivated", "released"}

func (o outcome) String() string { return outcomeNames[o] }

// verdict is what the worker does with a run's end.
type verdict struct {
	outcome outcome
	reason  string    // the error or the reason for deactivation, never a secret
	until   time.Time // outcomeWait: when the tenant should be available
}

// deletedStates are the tenant states after which the tenant will not
// come back: the tenant is made inactive. Every other state that is not
// running (maintenance, migration, suspension, provisioning) is waited
// out until the state's ValidUntil.
var deletedStates = map[tenant.StateName]bool{
	tenant.StateDeleted:      true,
	tenant.StateDeleting:     true,
	tenant.StateDeleteFailed: true,
}

// stateVerdict judges a tenant that is not running.
func (w *Worker) stateVerdict(st *tenant.State, now time.Time) verdict {
	if deletedStates[st.State] {
		return verdict{outcome: outcomeDeactivate, reason: fmt.Sprintf("tenant deleted (state %s)", st.State)}
	}
	// A ValidUntil in the past (or absent) must not become a hot loop, and
	// one in the year 9999 must not park the tenant for good: nothing
	// else, not even a re-approval, would bring it back sooner.
	until := st.ValidUntil
	if floor := now.Add(w.cfg.MinWait); until.Before(floor) {
		until = floor
	}
	if ceil := now.Add(w.cfg.MaxWait); until.After(ceil) {
		until = ceil
	}
	return verdict{outcome: outcomeWait, until: until,
		reason: fmt.Sprintf("tenant %s until %s", st.State, until.UTC().Format(time.RFC3339))}
}

// notRunning returns the state carried by an ErrTenantNotRunning error.
func notRunning(err error) *tenant.State {
	var te *tenant.Error
	if errors.Is(err, tenant.ErrTenantNotRunning) && errors.As(err, &te) && te.State != nil {
		return te.State
	}
	return nil
}

// appLevelRejection reports whether SuperID refused the exchange for a
// reason that concerns the app, not the tenant: a wrong application token
// (client secret), a key that is not the registered one, an app without
// system-user rights, a request SuperID cannot read (the signed token's
// form, the token type, its timestamp). Deactivating tenants for those
// would deactivate every tenant for one mistake in the app. SuperID's
// messages are not documented, so this errs on the side of a failed run,
// which the next cycle tries again, over a deactivation, which waits for
// a person to approve the app again.
func appLevelRejection(se *systemuser.Error) bool {
	if se.StatusCode == 401 || se.StatusCode == 403 {
		return true
	}
	m := strings.ToLower(se.ErrorMessage)
	for _, s := range []string{"application token", "apptoken", "signature", "not allowed", "certificate", "public key",
		"malformed", "returntokentype", "token type", "timestamp", "clock"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// classify sorts a run's error. stateOf looks the tenant's state up again
// (for a deleted tenant: whether the state API confirms it; for a rejected
// exchange: a deleted or suspended tenant is refused, too; for a transient
// failure: the tenant may have gone offline or moved).
func (w *Worker) classify(err error, attempts int, now time.Time, stateOf func() (*tenant.State, error)) verdict {
	msg := err.Error()
	// The server's own Retry-After, when longer than the backoff, is
	// what it asked for; RetryMax keeps a far one from parking the tenant.
	wait := max(w.backoff(attempts), min(serverWait(err), w.cfg.RetryMax))
	retry := verdict{outcome: outcomeRetry, reason: msg, until: now.Add(wait)}
	// recheck looks the state up again: the verdict for a tenant that is
	// not running, or ok false and the lookup's error.
	recheck := func() (verdict, bool, error) {
		st, serr := stateOf()
		if serr == nil && st != nil && !st.Running() {
			return w.stateVerdict(st, now), true, nil
		}
		if st := notRunning(serr); st != nil {
			return w.stateVerdict(st, now), true, nil
		}
		return verdict{}, false, serr
	}
	if st := notRunning(err); st != nil {
		if !deletedStates[st.State] {
			return w.stateVerdict(st, now)
		}
		// Deleted, the tenant is made inactive for good; the run may have
		// had that from a stored notification, which is no proof (its
		// token can be replayed). The state API has the last word.
		if v, ok, _ := recheck(); ok {
			return v
		}
		retry.reason += "; the state API does not confirm it now"
		return retry
	}
	var se *systemuser.Error
	switch {
	case errors.Is(err, systemuser.ErrClockSkew):
		return verdict{outcome: outcomeFailed, reason: msg}
	case errors.Is(err, systemuser.ErrRejected):
		if errors.As(err, &se) && appLevelRejection(se) {
			return verdict{outcome: outcomeFailed, reason: msg}
		}
		// Deleted, suspended and provisioning tenants are refused too:
		// the state says which it is.
		if v, ok, serr := recheck(); ok {
			return v
		} else if serr != nil && (transient(serr) || errors.Is(serr, context.Canceled)) {
			// Cannot tell a revoked token from a deleted tenant now (or
			// shutdown cut the check short): ask again later.
			return retry
		}
		if !errors.As(err, &se) || !se.Refused() {
			// A bare 4xx from something in between (a proxy, a wrong
			// Environment) says nothing about the tenant's approval.
			return verdict{outcome: outcomeFailed, reason: msg}
		}
		reason := "SuperID refused the system user token (approval withdrawn?); re-approve the app"
		if errors.As(err, &se) && se.ErrorMessage != "" {
			reason += ": " + se.ErrorMessage
		}
		return verdict{outcome: outcomeDeactivate, reason: reason}
	case transient(err):
		// The state the run started from may be older than the failure (it
		// is kept between runs): a tenant that went offline answers 503
		// and one that moved may not answer at all. Look again, so that an
		// offline tenant waits for its ValidUntil instead of retrying, and
		// the next run starts from the new state.
		if v, ok, _ := recheck(); ok {
			return v
		}
		return retry
	}
	return verdict{outcome: outcomeFailed, reason: msg}
}

// serverWait is how long the answer that ended the run asked to wait
// (Retry-After): the tenant's, or SuperID's when an exchange failed, also
// one inside a tenant request.
func serverWait(err error) time.Duration {
	var te *tenant.Error
	var se *systemuser.Error
	var d time.Duration
	if errors.As(err, &te) {
		d = te.RetryAfter
	}
	if errors.As(err, &se) {
		d = max(d, se.RetryAfter)
	}
	return d
}

// transient reports whether trying again soon may help: 5xx, 429, a 421
// that re-resolving did not fix, timeouts and connection errors.
func transient(err error) bool {
	var te *tenant.Error
	var ne net.Error
	switch {
	case errors.Is(err, ErrTransient),
		errors.Is(err, systemuser.ErrUnavailable), errors.Is(err, systemuser.ErrRateLimited),
		errors.Is(err, tenant.ErrServer), errors.Is(err, tenant.ErrRateLimited), errors.Is(err, tenant.ErrMisdirected),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &te) && te.StatusCode == 408:
		return true
	case errors.As(err, &ne):
		return true
	case errors.As(err, &te) && te.StatusCode == 0 && !errors.Is(err, tenant.ErrForeignHost) &&
		!errors.Is(err, tenant.ErrRedirect) && !errors.Is(err, context.Canceled) && errors.Unwrap(te) != nil:
		// No response at all: the request could not be sent.
		var se *systemuser.Error
		return !errors.As(err, &se)
	}
	return false
}

// backoff is the wait before retry number attempts+1: RetryMin doubled for
// each earlier attempt, at most RetryMax, with ±20% jitter so that tenants
// that failed together do not come back together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryMin
	for i := 0; i < attempts && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	j := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * j)
}
