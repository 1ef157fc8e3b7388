// Package store is the database the example web app and console share: the tenants
// that approved the app, with their sealed system user tokens and their work schedule,
// and the web app's server-side sessions.
//
// # Quick start
//
//	key, err := store.LoadOrCreateSealKey("data/seal.key") // or store.ParseSealKey(os.Getenv(...))
//	s, err := store.Open(ctx, "data/app.db", key)          // or "postgres://user@host/db"
//	defer s.Close()
//
// # Databases
//
// Open takes a SQLite file path (modernc.org/sqlite, pure Go; "sqlite:" prefix optional,
// ":memory:" for tests) or a "postgres://" / "postgresql://" URL (pgx). SQLite runs in
// WAL mode with a busy timeout, foreign keys on, and every transaction begun with BEGIN
// IMMEDIATE so that it holds the write lock from the start and never fails upgrading
// from reader to writer. A SQLite Store keeps one connection: SQLite lets one writer in
// at a time, and callers queued for the connection in the process wait only for the
// statements ahead of them, where connections contending for SQLite's lock sleep in its
// busy handler.
// Config.SQLiteCacheKiB bounds that connection's page cache (the console sets 512 KiB: a
// cycle touches each row once). SQLite serves one process (the web app and one
// console); to scale the console out to several instances use PostgreSQL.
//
// The schema is created and upgraded by Open from migrations embedded in the binary
// (migrations/sqlite, migrations/postgres: the same tables in each dialect's types, and the
// same version numbers; a migration only one dialect needs is a no-op in the other). The
// table schema_version records one row per applied migration. Open applies the missing
// ones in a single transaction; several processes opening at once serialise on a
// PostgreSQL advisory lock (or SQLite's write lock), so each migration runs once. A
// database migrated by a newer program is refused with ErrSchemaTooNew.
//
// # Schema
//
// Times are stored as unix microseconds (BIGINT), 0 meaning never/none, so that the same
// queries compare them on both databases.
//
// tenants, one row per tenant, keyed by the lower-cased context identifier
// (context_key), so "Cust123" and "cust123" are one tenant:
//
//   - context_id: the spelling of the latest approval.
//   - system_user_token: sealed (see Secrets).
//   - serial, web_api_url, company_name, approved_by, approved_at, approvals (a count,
//     bumped by each re-approval), created_at, updated_at.
//   - status ('active' or 'inactive') and status_reason.
//   - last_run, last_sync (last success), last_outcome (empty, ok, failed, retry, waiting),
//     last_result, last_error, attempts (transient failures in a row), next_run.
//   - lease_owner, lease_until, fence: the claim protocol below.
//   - ticket (sealed, NULL for none), ticket_issued_at, ticket_used_at: the tenant's
//     current system user ticket (see Tickets).
//   - state_json (empty for none), state_until: the tenant's state as a run last resolved
//     it (tenant.State as JSON) and when it must be looked up again. It travels like the
//     ticket (Claim.State, stored by the write that ends the claim), so that a run within
//     the state's life asks no state API, whichever instance runs it. It is no secret and
//     not sealed; the worker checks it (tenant.Resolver.Remember) before it sends
//     anything where it points. A tenant status notification changes it outside a claim
//     (ApplyStateChange): cleared after a move, Suspended or Deleted for a few minutes.
//
// A partial index on (next_run, context_key) for active tenants makes finding due
// tenants cheap however many there are.
//
// run_intents, keyed by (context_key, step) (on SQLite a WITHOUT ROWID table, one b-tree
// for key and row): what a run recorded, before a side effect,
// that it was about to do (run_id, the same on every attempt of the run; plan, such as
// the name of the company it creates; fence, the claim that recorded it; recorded_at).
// A tenant's rows are deleted by the transaction that records its next success. See
// RecordIntent: with them a job that is run again after a crash finds out whether its
// side effect already happened.
//
// sessions, keyed by the SHA-256 of the session id (id_hash), so that reading the
// table does not hand out live session ids; data is the sealed JSON of SessionData;
// created_at, updated_at, expires_at.
//
// used_sign_ins, keyed by the SHA-256 of a sign-in's OIDC state (state_hash): the
// sign-ins that came back to the web app, with used_at and expires_at (see Sign-ins).
//
// webhook_events, the web app's recent webhook events per tenant (see Webhook events):
// context_key, event_id (unique per tenant; NULL when none was sent), event, entity,
// primary_key, changed_by, occurred_at, received_at, in arrival order (id). No secret
// and no field values: what happened to which row, not the row.
//
// # Secrets
//
// System user tokens, tickets and session data are sealed with AES-256-GCM under the
// 32-byte seal key: version byte, random 96-bit nonce, ciphertext and tag. The additional
// authenticated data names the table, the column and the row (context key or session id
// hash), so a sealed value copied to another row, another column or another table does
// not open: the read fails with ErrSealBroken, as it does for a flipped bit or another
// key. No error, log line, String, GoString, LogValue or JSON form in this package holds
// a token, a ticket, a session id or the key: Tenant and Claim leave SystemUserToken and
// Ticket out of JSON and print as "tenant Cust123" / "claim Cust123 fence 7 by
// host-42-ab12cd34", Ticket prints only its times, and
// SessionData's MarshalJSON leaves out its tokens. ListTenants returns TenantSummary,
// which has no field for a secret.
//
// In local mode the key lives in a file (LoadOrCreateSealKey: base64, mode 0600,
// created atomically so that the web app and the console starting together agree on
// it); in production it comes from the environment (ParseSealKey) or a secret store.
// The database remembers its key: seal_check holds a constant sealed with it, written
// by the first Open (or, for a database from before seal_check, by the first Open whose
// key opens one of its active tenants' stored tokens). Open with another key fails with
// ErrSealKeyMismatch and changes nothing, so that a wrong key file or variable is a
// start-up error rather than every tenant deactivated. A single token that does not open
// (tampered, or copied from another row) is met by a claim instead: that tenant is made
// inactive with a reason, and the next approval stores a new token and reactivates it.
// Losing the key loses the tokens: Open refuses a new key while the database holds
// tokens sealed with the old one; start over with a new database (or delete the rows of
// tenants and seal_check), and every tenant approves the app again.
//
// # Approvals
//
// UpsertTenant stores an approval in one INSERT ... ON CONFLICT statement. A re-approval
// replaces the token (and any non-empty detail), counts the approval, reactivates the
// tenant (due at once if it was inactive), drops the stored ticket (it was exchanged
// with the old token) and keeps everything else: created time, last run, sync, result
// and error, and the current lease. Nothing is duplicated or lost.
//
// # Tickets
//
// SuperOffice asks partners to reuse a system user ticket for its sliding six-hour life
// rather than exchange the token for every run, and the console runs on several
// instances, any of which may claim a tenant next. So the ticket lives in the tenant's
// row, not in a process: a claim carries it opened (Claim.Ticket: value, issue time, last
// use), the worker reuses it while it is fresh or exchanges for a new one, and sets
// Claim.Ticket to what the run leaves behind (the new ticket, the old one with a later
// last use, or nil after SuperOffice refused it). The write that ends the claim
// (Complete, CompleteSuccesses, Reschedule, Postpone, Release) stores it in the same
// fenced statement, so a stale instance cannot overwrite a newer ticket, and only if the
// approval count is still the claim's, so a ticket of a replaced token never outlives
// the re-approval. Complete with Deactivate, and a claim that finds the token broken,
// drop it. The sealed ticket is bound to its row and to the ticket column: copied to
// another tenant, or into the token column, it does not open; a ticket that does not
// open counts as none (logged, without the value), and the next run exchanges anew.
//
// # Leases and fencing
//
// The console works through tenants with claims:
//
//  1. ClaimDue(owner, now, lease, limit) picks up to limit tenants that are active,
//     due (next_run <= now) and free (lease_until <= now: no lease, or an expired one),
//     the most overdue first, and in the same statement sets lease_owner = owner,
//     lease_until = now + lease and fence = fence + 1. On PostgreSQL the selection is
//     FOR UPDATE SKIP LOCKED inside the claiming transaction: concurrent claimers skip
//     rows another one is claiming instead of waiting for them, and a row claimed
//     meanwhile fails the re-checked lease condition, so no two claims overlap however
//     many instances run. On SQLite the single writer gives the same guarantee.
//  2. The worker runs the job with the claim's token (and ticket), and may Renew the lease.
//  3. It ends the claim with exactly one of Complete (success, failure, or deactivate),
//     Reschedule (transient error: attempts + 1, retry at a time it chooses from
//     Claim.Attempts), Postpone (tenant unavailable until a known time; no attempt
//     counted) or Release (give it back unchanged, for a shutdown). Each of these is a
//     single UPDATE ... WHERE context_key = ? AND lease_owner = ? AND fence = ? that
//     also clears the lease.
//
// The fence is the fencing token: a per-tenant counter that every claim increments and
// nothing lowers. When an instance dies or stalls, its lease runs out and another
// instance claims the tenant, moving the fence on. If the first instance then wakes up
// and writes, its fence no longer matches: the write changes nothing and returns
// ErrLeaseLost. That holds even when the new claim has the same owner name, and it does
// not depend on the clocks of the instances agreeing: the clock only decides when a
// tenant may be taken over; the fence decides whose write counts. A claim whose lease
// ran out but that nobody took over still completes, since nothing conflicts.
//
// Complete with Deactivate marks the tenant inactive only if it was not re-approved
// since the claim (Claim.Approvals), so a worker that found the old token revoked
// cannot deactivate a tenant whose administrator has just approved the app again.
//
// Claims stream: a console loops on ClaimDue with a batch size and stops when it returns
// nothing, so 10,000 tenants are never in memory at once. Use an owner name unique to the
// process (NewOwner), so that ReleaseOwner at shutdown frees only this process's claims.
// Counts summarises the table (due, leased, ok, failed, retrying, waiting, inactive).
//
// # Sessions
//
// CreateSession stores SessionData under a new random 256-bit id (base64url, 43
// characters) for a time to live; Session returns it, and a malformed, unknown or
// expired id is ErrNotFound. RotateSession moves the data to a new id in one
// transaction, re-sealing it (the seal is bound to the id) and deleting the old row: call
// it at sign-in. UpdateSession replaces the data (after a token refresh), DeleteSession
// signs out, DeleteExpiredSessions reclaims space.
//
// # Sign-ins
//
// UseSignIn records that a sign-in (its OIDC state) came back, in one INSERT ... ON
// CONFLICT DO NOTHING, and returns ErrSignInUsed if it came back before: of any number of
// callbacks carrying one state, on any number of web app instances, before or after a
// restart, exactly one goes on to redeem its code. The record is kept as long as the
// sign-in could come back (the web app's login timeout); DeleteExpiredSignIns reclaims
// the space afterwards.
//
// # Webhook events
//
// AddWebhookEvent stores a verified webhook event as its tenant's newest and trims the
// tenant's events to the newest few, so the table is a small window, not a log; an
// EventId the tenant has already (a retried delivery, on any instance) stores nothing
// and reports false. RecentWebhookEvents reads them newest first.
//
// # Errors
//
// Every error is an *Error (operation and cause, prefixed "store: ") wrapping one of
// ErrNotFound, ErrLeaseLost, ErrSealBroken, ErrBadKey, ErrSealKeyMismatch, ErrReadOnly,
// ErrSchemaTooNew, ErrSignInUsed, ErrInvalid or a database error; match them with
// errors.Is. Open refuses a database it cannot write (a read-only file, a read-only role
// or replica) with ErrReadOnly, so that a program finds out at start-up.
//
// # Testing
//
// The tests run against SQLite in a temporary directory and against PostgreSQL at
// TEST_DATABASE_URL, each test in a schema of its own. Without TEST_DATABASE_URL the
// PostgreSQL half is skipped, unless CI=true, where it fails. .ci/start-postgres starts
// a throwaway cluster:
//
//	eval "$(.ci/start-postgres)"
//	(cd examples && go test -race ./internal/store/)
//	.ci/start-postgres stop
package store
