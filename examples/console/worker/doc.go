// Package worker is the partner service's engine (steps 7 to 10 of the
// scenario): it works through the tenants in the store that are due, and
// for each one checks the tenant's state, takes the system user ticket
// stored with the tenant (exchanging the system user token only when there
// is no live ticket, and only for a tenant that runs), and runs a Job with
// a tenant client that carries the ticket.
//
// # Tickets
//
// SuperOffice asks partners to reuse a ticket for its sliding six-hour
// life, and the next run of a tenant may be another instance's. So the
// ticket lives in the store, sealed (store.Ticket), not in the process:
// the claim brings it, and the run's TicketSource hands it out while it
// has been idle for less than the system user client's ReuseWindow (six
// hours less five minutes by default). Otherwise, or after the tenant
// refused it (401), the run exchanges the token once, however many
// requests ask. The ticket the run ends with, with its last use, is
// stored by the same fenced write that records the run's end; a ticket
// that was refused and not replaced is dropped. A re-approval and a
// deactivation drop the stored ticket (see the store).
//
// # State
//
// The tenant's state (where its web API is, whether it runs) travels the
// same way (store.Claim.State): the run hands the stored one to the
// Resolver (Remember, which refuses one altered to point outside the
// environment), asks the state API only when it has none within its
// ValidUntil (bounded by the Resolver's MaxTTL), follows a 421 mid-run by
// looking up again, and stores the state it ends with. After a run nothing
// of the tenant stays in memory: neither its ticket nor its state.
//
// # Cycles
//
// Cycle streams the tenants that were due when it started from the store,
// a batch at a time (store.ClaimDueBy), onto Workers goroutines, so that
// any number of tenants is worked without holding them in memory. A
// successful run is due again one Interval after its cycle's start;
// successes are written in batches (store.CompleteSuccesses; a batch the
// database refuses is written again one by one, so that one bad write
// costs only its own run), every other end one by one. Run repeats cycles
// every Poll until its ctx ends.
//
// # Faults
//
// Each run ends in exactly one of these, recorded in the store with its
// reason (never a secret):
//
//   - ok: the job's summary, last sync and next run.
//   - retry (store.Reschedule), for what may pass: SuperID or the tenant
//     answering 5xx or 429, a 421 that re-resolving did not fix, timeouts,
//     connection errors, and a job's own ErrTransient. The wait doubles
//     with each attempt in a row, from RetryMin up to RetryMax, with
//     jitter, and is at least what the last answer's Retry-After asked
//     for (up to RetryMax); other tenants carry on meanwhile.
//   - waiting (store.Postpone): the tenant is not running (offline
//     maintenance, migration, suspended...); it is tried again at the
//     state's ValidUntil, without counting an attempt.
//   - deactivated: SuperID refused the tenant's system user token (the
//     approval was withdrawn), the tenant is deleted, or its stored token
//     does not open (a tampered row: the claim deactivates it and the
//     cycle counts it without a run; a wrong seal key for the whole
//     database is refused by store.Open instead). The tenant is made
//     inactive with the reason, once, and is not claimed again until it is
//     re-approved. A rejection that concerns the app rather than the
//     tenant (wrong client secret, wrong key) fails the run instead, so
//     that one configuration mistake cannot deactivate every tenant.
//   - failed: anything else (a 400 from the tenant, a clock that is off);
//     tried again at the next regular run.
//
// # Effectively once
//
// A run whose end was not recorded (the process died after the job's side
// effect, the database refused the write) is run again once its lease
// runs out. A job makes itself safe against that by recording its intent
// before the side effect and, on an attempt that resumes one, looking for
// the side effect before doing it again: Tenant.Intend and Once (see Job).
// The intents live in the store (store.RecordIntent) and end with the
// tenant's next recorded success. CreateCompany, the default job, does
// this with the company's name.
//
// # Several instances
//
// Every claim is a lease with a fencing token. Instances on one PostgreSQL
// database skip each other's claims (FOR UPDATE SKIP LOCKED); an instance
// that dies leaves its tenants to the others once its leases end, and its
// late writes change nothing (store.ErrLeaseLost, counted as Lost). A
// claim that waited in the queue for half its lease is renewed before its
// run starts; JobTimeout bounds a run well inside the lease.
//
// # Shutdown
//
// When Cycle's ctx ends it stops claiming, lets runs in flight finish for
// up to Grace (then cuts them short and releases their tenants), releases
// the claimed tenants that had not started, and returns nil.
//
// # Progress
//
// Stats can be read at any time from any goroutine; Progress shows them as
// a live line on a terminal or as periodic log records elsewhere, and
// Summary reports a cycle.
package worker
