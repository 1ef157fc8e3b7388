package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-superoffice/superoffice/tenant"
)

// Status is a tenant's state in the store.
type Status string

// Tenant states. An inactive tenant is never claimed; re-approval reactivates it.
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// Outcome is how a tenant's last run ended.
type Outcome string

// Outcomes, as Complete, Reschedule and Postpone record them.
const (
	OutcomeNone    Outcome = ""        // never run
	OutcomeOK      Outcome = "ok"      // Complete without Err
	OutcomeFailed  Outcome = "failed"  // Complete with Err (and maybe Deactivate)
	OutcomeRetry   Outcome = "retry"   // Reschedule: transient error, attempts counted
	OutcomeWaiting Outcome = "waiting" // Postpone: tenant not available until a known time
)

const (
	tenantsTable = "tenants"
	tokenColumn  = "system_user_token"
	// maxClaim caps one ClaimDue batch; bigger batches only lengthen the lock.
	maxClaim = 1000
)

// Approval is what the web app learns when a tenant administrator approves the app.
type Approval struct {
	// ContextIdentifier is the tenant ("Cust12345"). Required. Matched case-insensitively;
	// the spelling of the latest approval is kept.
	ContextIdentifier string
	// SystemUserToken is the tenant's system user token. Required; stored sealed.
	SystemUserToken string
	// Serial, WebAPIURL and CompanyName describe the tenant; an empty value on
	// re-approval keeps the stored one.
	Serial      string
	WebAPIURL   string
	CompanyName string
	// ApprovedBy is who made this approval; empty: nobody known. It always replaces the
	// stored one, as ApprovedAt does: an earlier approver did not make this approval.
	ApprovedBy string
	// ApprovedAt is when the approval happened. Zero means the store's clock.
	ApprovedAt time.Time
}

// TenantSummary is a tenant without its secret: what the tenants page shows.
type TenantSummary struct {
	ContextIdentifier string
	Serial            string
	WebAPIURL         string
	CompanyName       string
	ApprovedBy        string
	ApprovedAt        time.Time
	// Approvals counts approvals, the first included.
	Approvals int64
	CreatedAt time.Time
	UpdatedAt time.Time

	Status       Status
	StatusReason string // why it is inactive

	LastRun     time.Time // when a run last ended, any outcome; zero: never
	LastSync    time.Time // when a run last succeeded; zero: never
	LastOutcome Outcome
	LastResult  string // the job's summary of its last successful run
	LastError   string // the last failure's message; cleared by a success
	Attempts    int    // transient failures in a row (Reschedule); reset by a success
	NextRun     time.Time

	LeaseOwner string    // who holds the tenant now; empty when free
	LeaseUntil time.Time // the lease's end; zero when free
	Fence      int64     // the fencing token of the latest claim

	// TicketIssuedAt and TicketUsedAt describe the stored system user ticket (the
	// ticket itself is only in Claim and Tenant); zero: none stored.
	TicketIssuedAt time.Time
	TicketUsedAt   time.Time
}

// Tenant is a stored tenant with its system user token opened.
type Tenant struct {
	TenantSummary
	// SystemUserToken is left out of JSON, like every secret here, so that logging or
	// rendering the struct cannot leak it.
	SystemUserToken string `json:"-"`
	// Ticket is the stored system user ticket; nil: none, or one that does not open.
	Ticket *Ticket `json:"-"`
}

// String describes the tenant without its token.
func (t Tenant) String() string { return "tenant " + t.ContextIdentifier }

// GoString is String, so that %#v cannot print the token either.
func (t Tenant) GoString() string { return t.String() }

// LogValue logs the tenant without its token.
func (t Tenant) LogValue() slog.Value {
	return slog.GroupValue(slog.String("context_id", t.ContextIdentifier), slog.String("status", string(t.Status)))
}

// Claim is a tenant leased to one worker. Pass it back to exactly one of Complete,
// Reschedule, Postpone or Release, unchanged but for its Ticket; Renew extends it.
type Claim struct {
	ContextIdentifier string
	SystemUserToken   string `json:"-"`
	Serial            string
	WebAPIURL         string
	CompanyName       string
	// Attempts counts the transient failures before this claim, for the caller's backoff.
	Attempts int
	LastSync time.Time
	// Owner and Fence identify the claim: a write is accepted only while the tenant's
	// lease owner and fencing token are still these.
	Owner      string
	Fence      int64
	LeaseUntil time.Time
	// Approvals is the tenant's approval count when claimed. Complete with Deactivate
	// leaves a tenant active that was re-approved (with a new token) meanwhile.
	Approvals int64
	// State is the tenant's state as a run last resolved it (where its web API is, whether
	// it runs), and StateUntil when it must be looked up again; nil: none. Like Ticket, set
	// both to what the run leaves behind before ending the claim, and the same writes store
	// them. The state is no secret, but it says where credentials go: check it before use
	// (tenant.Resolver.Remember does).
	State      *tenant.State
	StateUntil time.Time
	// Ticket is the tenant's stored system user ticket when claimed; nil: none (or one
	// that did not open). Set it to what the run leaves behind (a new ticket, the same one
	// with a later LastUsed, nil after the ticket was refused) before ending the claim:
	// Complete, CompleteSuccesses, Reschedule, Postpone and Release store it in the same
	// fenced write, unless the tenant was re-approved since the claim. Complete with
	// Deactivate drops it.
	Ticket *Ticket
}

// String describes the claim without its token.
func (c Claim) String() string {
	return "claim " + c.ContextIdentifier + " fence " + strconv.FormatInt(c.Fence, 10) + " by " + c.Owner
}

// GoString is String, so that %#v cannot print the token either.
func (c Claim) GoString() string { return c.String() }

// LogValue logs the claim without its token.
func (c Claim) LogValue() slog.Value {
	return slog.GroupValue(slog.String("context_id", c.ContextIdentifier), slog.Int64("fence", c.Fence), slog.String("owner", c.Owner))
}

// Result is how a claimed run ended; see Complete.
type Result struct {
	// At is when the run ended. Zero means the store's clock.
	At time.Time
	// NextRun is when the tenant is due again. Required unless Deactivate: a tenant due
	// at once would be claimed again in the same cycle.
	NextRun time.Time
	// Summary is the job's short, non-secret description of what it did.
	Summary string
	// Err, when set, records a failure (a message, never a secret).
	Err string
	// Deactivate marks the tenant inactive with Reason (revoked token, deleted tenant).
	Deactivate bool
	Reason     string
}

// Retry is a transient failure; see Reschedule.
type Retry struct {
	At      time.Time // when the attempt ended; zero means the store's clock
	NextRun time.Time // when to try again; required
	Err     string    // what went wrong, never a secret
}

// Counts summarises the tenants table; see Counts.
type Counts struct {
	Total    int
	Active   int
	Inactive int
	Due      int // active, due by now, not leased
	Leased   int // leased now (in flight)
	OK       int // active, last run succeeded
	Failed   int // last run failed (active or not)
	Retrying int // active, rescheduled after a transient error
	Waiting  int // active, postponed until the tenant is available
}

// text makes a message a run reports (a summary, an error, a reason) storable: it
// comes from the job or the tenant's server, and may hold bytes PostgreSQL's text
// refuses, a NUL or invalid UTF-8 (a summary cut in the middle of a letter).
// Such a write would fail, leaving the tenant claimed and its run unrecorded, to run
// again when the lease ends; in CompleteSuccesses it would fail the whole batch.
func text(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// tenantKey is the case-insensitive primary key of a context identifier.
func tenantKey(op, contextID string) (string, error) {
	if contextID == "" {
		return "", invalid(op, "empty context identifier")
	}
	if len(contextID) > 200 {
		return "", invalid(op, "context identifier longer than 200 bytes")
	}
	for _, r := range contextID {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "", invalid(op, "context identifier %q has white space or control characters", contextID)
		}
	}
	return strings.ToLower(contextID), nil
}

// UpsertTenant stores an approval. A new tenant is inserted active and due at once. A
// known one (matched case-insensitively) gets the new token and details, is reactivated,
// and keeps its history: created time, last run, result and error, and its schedule
// (made due at once if it was inactive). Its stored ticket is dropped: it was exchanged
// with the old token. The lease and fencing token are left alone, so a worker that holds
// the tenant can still finish (but cannot store a ticket of the old token).
func (s *Store) UpsertTenant(ctx context.Context, a Approval) error {
	op := "upsert tenant"
	key, err := tenantKey(op, a.ContextIdentifier)
	if err != nil {
		return err
	}
	op += " " + a.ContextIdentifier
	if a.SystemUserToken == "" {
		return invalid(op, "empty system user token")
	}
	now := micros(s.now())
	at := now
	if !a.ApprovedAt.IsZero() {
		at = micros(a.ApprovedAt)
	}
	sealed := s.seal.seal([]byte(a.SystemUserToken), tenantsTable, tokenColumn, key)
	_, err = s.db.ExecContext(ctx, `
INSERT INTO tenants (context_key, context_id, system_user_token, serial, web_api_url, company_name,
	approved_by, approved_at, approvals, created_at, updated_at, status, status_reason, next_run)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9, 'active', '', $9)
ON CONFLICT (context_key) DO UPDATE SET
	context_id        = excluded.context_id,
	system_user_token = excluded.system_user_token,
	serial       = CASE WHEN excluded.serial       <> '' THEN excluded.serial       ELSE tenants.serial END,
	web_api_url  = CASE WHEN excluded.web_api_url  <> '' THEN excluded.web_api_url  ELSE tenants.web_api_url END,
	company_name = CASE WHEN excluded.company_name <> '' THEN excluded.company_name ELSE tenants.company_name END,
	approved_by  = excluded.approved_by,
	approved_at  = excluded.approved_at,
	approvals    = tenants.approvals + 1,
	updated_at   = excluded.updated_at,
	next_run     = CASE WHEN tenants.status = 'inactive' THEN excluded.next_run ELSE tenants.next_run END,
	attempts     = CASE WHEN tenants.status = 'inactive' THEN 0 ELSE tenants.attempts END,
	status        = 'active',
	status_reason = '',
	ticket           = NULL,
	ticket_issued_at = 0,
	ticket_used_at   = 0`,
		key, a.ContextIdentifier, sealed, a.Serial, a.WebAPIURL, a.CompanyName, a.ApprovedBy, at, now)
	return wrap(op, err)
}

const summaryColumns = `context_id, serial, web_api_url, company_name, approved_by, approved_at, approvals,
	created_at, updated_at, status, status_reason, last_run, last_sync, last_outcome, last_result,
	last_error, attempts, next_run, lease_owner, lease_until, fence, ticket_issued_at, ticket_used_at`

type scanner interface{ Scan(dest ...any) error }

func scanSummary(row scanner, extra ...any) (TenantSummary, error) {
	var t TenantSummary
	var approvedAt, createdAt, updatedAt, lastRun, lastSync, nextRun, leaseUntil, ticketIssued, ticketUsed int64
	var status, outcome string
	dest := []any{&t.ContextIdentifier, &t.Serial, &t.WebAPIURL, &t.CompanyName, &t.ApprovedBy, &approvedAt,
		&t.Approvals, &createdAt, &updatedAt, &status, &t.StatusReason, &lastRun, &lastSync, &outcome,
		&t.LastResult, &t.LastError, &t.Attempts, &nextRun, &t.LeaseOwner, &leaseUntil, &t.Fence, &ticketIssued, &ticketUsed}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return t, err
	}
	t.ApprovedAt, t.CreatedAt, t.UpdatedAt = fromMicros(approvedAt), fromMicros(createdAt), fromMicros(updatedAt)
	t.LastRun, t.LastSync, t.NextRun, t.LeaseUntil = fromMicros(lastRun), fromMicros(lastSync), fromMicros(nextRun), fromMicros(leaseUntil)
	t.TicketIssuedAt, t.TicketUsedAt = fromMicros(ticketIssued), fromMicros(ticketUsed)
	t.Status, t.LastOutcome = Status(status), Outcome(outcome)
	return t, nil
}

// Tenant returns the tenant with its token opened, or ErrNotFound.
func (s *Store) Tenant(ctx context.Context, contextID string) (*Tenant, error) {
	op := "tenant"
	key, err := tenantKey(op, contextID)
	if err != nil {
		return nil, err
	}
	op += " " + contextID
	var sealed, ticket []byte
	sum, err := scanSummary(s.db.QueryRowContext(ctx,
		`SELECT `+summaryColumns+`, system_user_token, ticket FROM tenants WHERE context_key = $1`, key), &sealed, &ticket)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, wrap(op, ErrNotFound)
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	tok, err := s.seal.open(sealed, tenantsTable, tokenColumn, key)
	if err != nil {
		return nil, wrap(op, err)
	}
	return &Tenant{TenantSummary: sum, SystemUserToken: string(tok),
		Ticket: s.openTicket(ctx, key, sum.ContextIdentifier, ticket, micros(sum.TicketIssuedAt), micros(sum.TicketUsedAt))}, nil
}

// ListTenants returns every tenant, ordered by context identifier, without secrets.
func (s *Store) ListTenants(ctx context.Context) ([]TenantSummary, error) {
	const op = "list tenants"
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryColumns+` FROM tenants ORDER BY context_key`)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []TenantSummary
	for rows.Next() {
		t, err := scanSummary(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, t)
	}
	return out, wrap(op, rows.Err())
}

// The claim statement leases up to $4 due tenants to $1 until $2, bumping each one's
// fencing token. On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent claimers pass
// each other: a row another transaction is claiming is skipped, not waited for, and a
// row it has just claimed fails the re-checked lease condition. SQLite has one writer,
// so the plain statement is already atomic. $3 is the time leases are judged at, $5 the
// time tenants must have been due by (the same for ClaimDue, a cycle's start for ClaimDueBy).
const (
	claimReturning = ` RETURNING tenants.context_key, tenants.context_id, tenants.system_user_token, tenants.serial,
	tenants.web_api_url, tenants.company_name, tenants.attempts, tenants.last_sync, tenants.fence, tenants.lease_until,
	tenants.approvals, tenants.ticket, tenants.ticket_issued_at, tenants.ticket_used_at, tenants.state_json,
	tenants.state_until`
	claimPostgres = `
WITH due AS (
	SELECT context_key FROM tenants
	WHERE status = 'active' AND next_run <= $5 AND lease_until <= $3
	ORDER BY next_run, context_key
	LIMIT $4
	FOR UPDATE SKIP LOCKED)
UPDATE tenants SET lease_owner = $1, lease_until = $2, fence = tenants.fence + 1
FROM due WHERE tenants.context_key = due.context_key` + claimReturning
	claimSQLite = `
UPDATE tenants SET lease_owner = $1, lease_until = $2, fence = fence + 1
WHERE context_key IN (
	SELECT context_key FROM tenants
	WHERE status = 'active' AND next_run <= $5 AND lease_until <= $3
	ORDER BY next_run, context_key
	LIMIT $4)` + claimReturning
)

// ClaimDue leases up to limit tenants that are active, due (next run at or before now)
// and not leased (no lease, or one that ended by now) to owner until now+lease, the
// longest overdue first, and returns them ordered by context identifier. Each claim bumps the tenant's fencing token. An
// empty result means nothing is due: call it in a loop to stream through any number of
// tenants a batch at a time. limit is capped at 1000.
//
// A tenant whose token no longer opens (the seal key changed, the row was tampered with)
// is not returned: it is made inactive with that reason, so that it is not claimed in a
// loop, and a re-approval brings it back.
func (s *Store) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Claim, error) {
	claims, _, err := s.ClaimDueBy(ctx, owner, now, now, lease, limit)
	return claims, err
}

// fenced runs a write that is allowed only while c is the tenant's current claim. The
// query's $1, $2 and $3 are the tenant key, the owner and the fencing token.
// A success (clearIntents) also deletes the tenant's run intents, in the same
// transaction.
func (s *Store) fenced(ctx context.Context, op string, c Claim, clearIntents bool, query string, args ...any) error {
	key, err := tenantKey(op, c.ContextIdentifier)
	if err != nil {
		return err
	}
	op += " " + c.ContextIdentifier
	if c.Owner == "" {
		return invalid(op, "claim has no owner")
	}
	if !clearIntents {
		return wrap(op, fencedExec(ctx, s.db, query, append([]any{key, c.Owner, c.Fence}, args...)...))
	}
	// A success: its record and the deletion of the run's intents are one
	// transaction, so that a crash between them can neither leave the run
	// recorded with its intent open (the next run would take the old intent
	// for its own) nor the intent gone with the run unrecorded (a rerun would
	// not look for the side effect before doing it again).
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer tx.Rollback()
	if err := fencedExec(ctx, tx, query, append([]any{key, c.Owner, c.Fence}, args...)...); err != nil {
		return wrap(op, err)
	}
	if _, err := tx.ExecContext(ctx, clearIntentsSQL, key); err != nil {
		return wrap(op, err)
	}
	return wrap(op, tx.Commit())
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// fencedExec runs a fenced write and returns ErrLeaseLost when it changed no row.
func fencedExec(ctx context.Context, db execer, query string, args ...any) error {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

const fenceWhere = ` WHERE context_key = $1 AND lease_owner = $2 AND fence = $3`

// fencedEnd is fenced for a write that ends the claim: set is the UPDATE without its
// WHERE clause, and the write also stores ticket and the claim's state (see ticketSet,
// stateSet).
func (s *Store) fencedEnd(ctx context.Context, op string, c Claim, ticket *Ticket, success bool, set string, args ...any) error {
	key, err := tenantKey(op, c.ContextIdentifier)
	if err != nil {
		return err
	}
	q := set + ticketSet(4+len(args)) + stateSet(8+len(args)) + fenceWhere
	args = append(args, s.ticketArgs(key, c, ticket)...)
	return s.fenced(ctx, op, c, success, q, append(args, stateArgs(c)...)...)
}

// Complete records the end of a claimed run and frees the tenant. Without Err it is a
// success: last sync and result set, error and attempts cleared, and the tenant's run
// intents deleted in the same transaction (see RecordIntent). With Err it is a failure
// recorded as such (attempts unchanged). Deactivate makes the tenant inactive with Reason
// (unless it was re-approved since the claim). It returns ErrLeaseLost, and writes
// nothing, when the claim is no longer current: its lease ran out and another worker
// claimed the tenant.
func (s *Store) Complete(ctx context.Context, c Claim, r Result) error {
	const op = "complete"
	if r.NextRun.IsZero() && !r.Deactivate {
		return invalid(op+" "+c.ContextIdentifier, "result has no next run")
	}
	at := r.At
	if at.IsZero() {
		at = s.now()
	}
	next := r.NextRun
	if next.IsZero() {
		next = at
	}
	if r.Err == "" && !r.Deactivate {
		return s.fencedEnd(ctx, op, c, c.Ticket, true, `UPDATE tenants SET last_run = $4, last_sync = $4, last_outcome = 'ok',
			last_result = $5, last_error = '', attempts = 0, next_run = $6, lease_owner = '', lease_until = 0`,
			micros(at), text(r.Summary), micros(next))
	}
	errText := r.Err
	if errText == "" {
		errText = r.Reason
	}
	deactivate := 0
	if r.Deactivate {
		deactivate = 1
	}
	reason := r.Reason
	if reason == "" {
		reason = errText
	}
	ticket := c.Ticket
	if r.Deactivate {
		// Whatever made the tenant inactive (a withdrawn approval, a deleted tenant)
		// ended its ticket too, and a re-approval must not start from its state.
		ticket, c.State = nil, nil
	}
	return s.fencedEnd(ctx, op, c, ticket, false, `UPDATE tenants SET last_run = $4, last_outcome = 'failed',
		last_result = CASE WHEN $5 <> '' THEN $5 ELSE last_result END, last_error = $6, next_run = $7,
		status        = CASE WHEN $8 = 1 AND approvals = $9 THEN 'inactive' ELSE status END,
		status_reason = CASE WHEN $8 = 1 AND approvals = $9 THEN $10 ELSE status_reason END,
		lease_owner = '', lease_until = 0`,
		micros(at), text(r.Summary), text(errText), micros(next), deactivate, c.Approvals, text(reason))
}

// Reschedule records a transient failure (5xx, timeout, 429), counts the attempt and
// frees the tenant until r.NextRun. The caller computes the backoff from c.Attempts.
// ErrLeaseLost as for Complete.
func (s *Store) Reschedule(ctx context.Context, c Claim, r Retry) error {
	const op = "reschedule"
	if r.NextRun.IsZero() {
		return invalid(op+" "+c.ContextIdentifier, "retry has no next run")
	}
	at := r.At
	if at.IsZero() {
		at = s.now()
	}
	return s.fencedEnd(ctx, op, c, c.Ticket, false, `UPDATE tenants SET last_run = $4, last_outcome = 'retry', last_error = $5,
		attempts = attempts + 1, next_run = $6, lease_owner = '', lease_until = 0`,
		micros(at), text(r.Err), micros(r.NextRun))
}

// Postpone frees the tenant until until without counting an attempt: the tenant is
// known to be unavailable (offline, migrating) until then. ErrLeaseLost as for Complete.
func (s *Store) Postpone(ctx context.Context, c Claim, until time.Time, reason string) error {
	const op = "postpone"
	if until.IsZero() {
		return invalid(op+" "+c.ContextIdentifier, "zero time")
	}
	return s.fencedEnd(ctx, op, c, c.Ticket, false, `UPDATE tenants SET last_run = $4, last_outcome = 'waiting', last_error = $5,
		next_run = $6, lease_owner = '', lease_until = 0`,
		micros(s.now()), text(reason), micros(until))
}

// Release gives the tenant back unchanged but for its ticket and state: due as before, claimable
// at once (a worker that stops before running it, or is cut short). ErrLeaseLost as for
// Complete; a caller that is shutting down can ignore it.
func (s *Store) Release(ctx context.Context, c Claim) error {
	return s.fencedEnd(ctx, "release", c, c.Ticket, false, `UPDATE tenants SET lease_owner = '', lease_until = 0`)
}

// Renew extends the claim's lease to now+lease, for a run that takes longer than
// planned, and returns the renewed claim. ErrLeaseLost as for Complete: then stop.
func (s *Store) Renew(ctx context.Context, c Claim, now time.Time, lease time.Duration) (Claim, error) {
	if lease <= 0 {
		return c, invalid("renew "+c.ContextIdentifier, "lease must be positive")
	}
	if now.IsZero() {
		now = s.now()
	}
	until := now.Add(lease)
	// A lease that has run out can still be renewed as long as nobody took the tenant:
	// the fencing token, not the clock, decides.
	if err := s.fenced(ctx, "renew", c, false, `UPDATE tenants SET lease_until = $4`+fenceWhere, micros(until)); err != nil {
		return c, err
	}
	c.LeaseUntil = fromMicros(micros(until))
	return c, nil
}

// ReleaseOwner frees every tenant leased to owner and reports how many: a clean shutdown
// after the in-flight runs were cancelled. Owner names must be unique per process
// (NewOwner) for this to touch only this process's claims.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) (int64, error) {
	const op = "release owner"
	if owner == "" {
		return 0, invalid(op, "empty owner")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tenants SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1`, owner)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(op, err)
}

// NewOwner returns an owner name unique to this process: host, process id and a random
// suffix, so that a restarted process never mistakes an old lease for its own.
func NewOwner() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	r := GenerateSealKey()[:4]
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), r)
}

// Counts summarises the tenants as of now (zero: the store's clock).
func (s *Store) Counts(ctx context.Context, now time.Time) (Counts, error) {
	if now.IsZero() {
		now = s.now()
	}
	var c Counts
	var vals [9]sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*),
		SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'inactive' THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'active' AND next_run <= $1 AND lease_until <= $1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'active' AND last_outcome = 'ok' THEN 1 ELSE 0 END),
		SUM(CASE WHEN last_outcome = 'failed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'active' AND last_outcome = 'retry' THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'active' AND last_outcome = 'waiting' THEN 1 ELSE 0 END)
		FROM tenants`, micros(now)).Scan(&vals[0], &vals[1], &vals[2], &vals[3], &vals[4], &vals[5], &vals[6], &vals[7], &vals[8])
	if err != nil {
		return c, wrap("counts", err)
	}
	dst := []*int{&c.Total, &c.Active, &c.Inactive, &c.Due, &c.Leased, &c.OK, &c.Failed, &c.Retrying, &c.Waiting}
	for i, p := range dst {
		*p = int(vals[i].Int64)
	}
	return c, nil
}
