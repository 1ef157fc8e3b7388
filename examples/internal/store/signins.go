package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// ErrSignInUsed: the sign-in (its OIDC state) was finished before, on this instance or
// another, before or after a restart. A callback that carries it again is a replay.
var ErrSignInUsed = errors.New("store: sign-in already used")

// UseSignIn records that the sign-in with this OIDC state came back, and keeps the record
// until keep from now: as long as the sign-in could still come back. It returns
// ErrSignInUsed when the state was recorded before, so that exactly one callback of a
// sign-in goes on to redeem its code, however many instances share the store. Only a
// hash of the state is stored.
func (s *Store) UseSignIn(ctx context.Context, state string, keep time.Duration) error {
	const op = "use sign-in"
	switch {
	case state == "":
		return invalid(op, "empty state")
	case keep <= 0:
		return invalid(op, "keep must be positive")
	}
	sum := sha256.Sum256([]byte(state))
	now := s.now()
	// One statement, so that of two callbacks at once on two instances exactly one
	// inserts: the primary key decides, on SQLite and PostgreSQL alike.
	res, err := s.db.ExecContext(ctx, `INSERT INTO used_sign_ins (state_hash, used_at, expires_at)
		VALUES ($1, $2, $3) ON CONFLICT (state_hash) DO NOTHING`,
		hex.EncodeToString(sum[:]), micros(now), micros(now.Add(keep)))
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, ErrSignInUsed)
	}
	return nil
}

// DeleteExpiredSignIns removes the records of sign-ins that can no longer come back
// and reports how many. It only reclaims space: a sign-in that old fails anyway.
func (s *Store) DeleteExpiredSignIns(ctx context.Context) (int64, error) {
	const op = "delete expired sign-ins"
	res, err := s.db.ExecContext(ctx, `DELETE FROM used_sign_ins WHERE expires_at <= $1`, micros(s.now()))
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(op, err)
}
