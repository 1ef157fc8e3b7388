package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"time"
)

// Intent is what a run recorded, before a side effect, that it was about to do: the
// run's identity and its plan (for the console's job, the name of the company it
// creates). See RecordIntent.
type Intent struct {
	// Step names the side effect within the run ("create-company").
	Step string
	// RunID identifies the run: the same on every attempt of it, and shared by the
	// steps of one run.
	RunID string
	// Plan is what the first attempt recorded; a later attempt gets it back.
	Plan string
	// RecordedAt is when the first attempt recorded it, on the store's clock.
	RecordedAt time.Time
	// Resumed is true when an earlier attempt of the run recorded the intent and no
	// success of the tenant has been recorded since: the side effect may have happened.
	Resumed bool
}

// Limits of an intent's fields: a step is a name, a plan a short description (a company
// name, a key of the partner's own), not a document.
const (
	maxStepLen = 100
	maxPlanLen = 4000
)

// clearIntentsSQL deletes a tenant's intents; every write that records a success runs it
// in the same transaction (see Complete, CompleteSuccesses).
const clearIntentsSQL = `DELETE FROM run_intents WHERE context_key = $1`

// RecordIntent records, durably and before the run does it, that the run of the claimed
// tenant is about to do step as plan, so that the run can be made effectively once:
//
//   - The first attempt of a run gets its plan back with a new RunID, Resumed false.
//   - An attempt that starts after an earlier one recorded an intent for step and then
//     did not get to record its end (the process was killed, the database refused the
//     write, the answer to the side effect was lost and the run was rescheduled) gets
//     that intent back, with Resumed true, and plan is not stored: it should find out
//     whether the earlier attempt's side effect happened (look it up by the recorded
//     plan) before doing it again.
//
// An intent stands until a success of the tenant is recorded (Complete without Err, or
// CompleteSuccesses): the same transaction deletes the tenant's intents, so that there is
// no moment at which a run is recorded as done and its intent still open, or the other
// way round. A failure, a reschedule, a postponement or a release keeps them.
//
// It is fenced like the writes that end a claim: ErrLeaseLost, and nothing recorded, when
// the claim is no longer current. Then the run must not do the side effect.
func (s *Store) RecordIntent(ctx context.Context, c Claim, step, plan string) (Intent, error) {
	op := "record intent"
	key, err := tenantKey(op, c.ContextIdentifier)
	if err != nil {
		return Intent{}, err
	}
	op += " " + c.ContextIdentifier
	switch {
	case c.Owner == "":
		return Intent{}, invalid(op, "claim has no owner")
	case step == "" || len(step) > maxStepLen:
		return Intent{}, invalid(op, "step must be 1 to %d bytes", maxStepLen)
	case len(plan) > maxPlanLen:
		return Intent{}, invalid(op, "plan is longer than %d bytes", maxPlanLen)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	in := Intent{Step: step, RunID: hex.EncodeToString(b[:]), Plan: text(plan), RecordedAt: fromMicros(micros(s.now()))}
	args := []any{key, c.Owner, c.Fence, in.Step, in.RunID, in.Plan, micros(in.RecordedAt)}
	if s.dialect == SQLite {
		// The usual case, the run's first intent for step on a current
		// claim, is one statement on SQLite: it runs one writer at a time,
		// and a write statement takes the lock before it reads.
		err = s.insertIntent.QueryRowContext(ctx, args...).Scan(&in.RunID)
		switch {
		case err == nil:
			return in, nil
		case err != sql.ErrNoRows:
			return Intent{}, wrap(op, err)
		}
		// Nothing inserted: the claim is not current, or an earlier
		// attempt recorded an intent for step.
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Intent{}, wrap(op, err)
	}
	defer tx.Rollback()
	// The claim must be current while the intent is read: on PostgreSQL the
	// row lock makes a claim by another instance wait for this transaction;
	// SQLite's transactions already hold the write lock.
	check := `SELECT fence FROM tenants` + fenceWhere
	if s.dialect == Postgres {
		check += ` FOR UPDATE`
	}
	var fence int64
	switch err := tx.QueryRowContext(ctx, check, key, c.Owner, c.Fence).Scan(&fence); {
	case err == sql.ErrNoRows:
		return Intent{}, wrap(op, ErrLeaseLost)
	case err != nil:
		return Intent{}, wrap(op, err)
	}
	if s.dialect == Postgres {
		// After the lock, in a statement of its own: PostgreSQL reads with
		// the snapshot its statement starts with, and the insert must see
		// an intent of another step of the run committed while this one
		// waited for the lock, to share its run id.
		err = tx.StmtContext(ctx, s.insertIntent).QueryRowContext(ctx, args...).Scan(&in.RunID)
		switch {
		case err == nil:
			return in, wrap(op, tx.Commit())
		case err != sql.ErrNoRows:
			return Intent{}, wrap(op, err)
		}
	}
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT run_id, plan, recorded_at FROM run_intents WHERE context_key = $1 AND step = $2`,
		key, step).Scan(&in.RunID, &in.Plan, &at)
	if err != nil {
		// Both statements saw the same current claim, and only a success
		// of that claim deletes intents: the row is there.
		return Intent{}, wrap(op, err)
	}
	in.RecordedAt, in.Resumed = fromMicros(at), true
	return in, wrap(op, tx.Commit())
}

// insertIntentSQL records a run's intent for a step, when the claim ($1-$3) is current
// and no intent for the step is recorded, and returns its run id: that of an intent of
// another step of the run when there is one, else $5. It returns no row otherwise.
const insertIntentSQL = `INSERT INTO run_intents (context_key, step, run_id, plan, fence, recorded_at)
	SELECT context_key, $4, COALESCE((SELECT run_id FROM run_intents WHERE context_key = $1 ORDER BY recorded_at DESC, step LIMIT 1), $5),
		$6, fence, CAST($7 AS BIGINT)
	FROM tenants` + fenceWhere + `
	ON CONFLICT (context_key, step) DO NOTHING
	RETURNING run_id`

// Intents returns the tenant's open intents (recorded, and no success recorded since),
// oldest first: runs that did not get to record their end.
func (s *Store) Intents(ctx context.Context, contextID string) ([]Intent, error) {
	op := "intents"
	key, err := tenantKey(op, contextID)
	if err != nil {
		return nil, err
	}
	out, err := scanIntents(s.db.QueryContext(ctx,
		`SELECT step, run_id, plan, recorded_at FROM run_intents WHERE context_key = $1 ORDER BY recorded_at, step`, key))
	return out, wrap(op+" "+contextID, err)
}

func scanIntents(rows *sql.Rows, err error) ([]Intent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Intent
	for rows.Next() {
		var in Intent
		var at int64
		if err := rows.Scan(&in.Step, &in.RunID, &in.Plan, &at); err != nil {
			return nil, err
		}
		in.RecordedAt = fromMicros(at)
		out = append(out, in)
	}
	return out, rows.Err()
}

// NextDue is when the next active tenant that nobody holds is due: the earliest next run
// among them, zero when there is none. A console shows it between its cycles.
func (s *Store) NextDue(ctx context.Context, now time.Time) (time.Time, error) {
	if now.IsZero() {
		now = s.now()
	}
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(next_run) FROM tenants WHERE status = 'active' AND lease_until <= $1`,
		micros(now)).Scan(&next)
	if err != nil {
		return time.Time{}, wrap("next due", err)
	}
	return fromMicros(next.Int64), nil
}
