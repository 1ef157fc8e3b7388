package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tenantStates returns each tenant's status, lease owner and fence, by context key.
func tenantStates(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT context_key, status, lease_owner, fence FROM tenants`)
	require.NoError(t, err)
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var key, status, owner string
		var fence int64
		require.NoError(t, rows.Scan(&key, &status, &owner, &fence))
		m[key] = fmt.Sprintf("%s/%s/%d", status, owner, fence)
	}
	return m
}

func checkMismatch(t *testing.T, err error, key []byte) {
	t.Helper()
	require.ErrorIs(t, err, ErrSealKeyMismatch, "open with another key")
	msg := err.Error()
	assert.Contains(t, msg, "another seal key")
	assert.Contains(t, msg, "seal key setting")
	assert.NotContains(t, msg, EncodeSealKey(key), "the key leaks")
	assert.NotContains(t, msg, "SECRET", "a secret leaks")
}

// Opening a database with another seal key (another data directory, a lost key file)
// is refused at Open, before a claim can deactivate every tenant whose token then does
// not open; nothing is changed, and the right key still works.
func TestOpenRefusesAnotherSealKey(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		before := tenantStates(t, s)
		s.Close()

		other := GenerateSealKey()
		_, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other, Now: db.clock.Now})
		checkMismatch(t, err, other)

		s = db.open(t)
		assert.Equal(t, before, tenantStates(t, s), "tenants changed by a refused open")
		cs, err := s.ClaimDue(ctx, "w", db.clock.Now(), time.Minute, 10)
		require.NoError(t, err, "claim with the right key")
		assert.Len(t, cs, 2, "claims with the right key")
	})
}

// A database without tenants is bound to the key of its first open all the same: the
// next program to store a tenant must use that key.
func TestOpenRefusesAnotherSealKeyOnAnEmptyDatabase(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		db.open(t).Close()
		other := GenerateSealKey()
		_, err := OpenConfig(context.Background(), Config{DSN: db.dsn, SealKey: other})
		checkMismatch(t, err, other)
	})
}

// A database from before the seal check (schema 3) gets its check row from the first
// open whose key opens its stored tokens, and refuses a key that opens none of them.
// One tampered token among good ones does not stop the right key.
func TestSealCheckAddedToAnExistingDatabase(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		// Back to how schema 3 left it (the later migrations run again: they are idempotent).
		for _, q := range []string{`DROP TABLE seal_check`, `DELETE FROM schema_version WHERE version >= 4`,
			`UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`} {
			var err error
			if strings.Contains(q, "$1") {
				_, err = s.DB().ExecContext(ctx, q, []byte{1, 2, 3})
			} else {
				_, err = s.DB().ExecContext(ctx, q)
			}
			require.NoError(t, err, q)
		}
		s.Close()

		other := GenerateSealKey()
		_, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other})
		checkMismatch(t, err, other)
		assert.ErrorContains(t, err, "none of 2 stored tokens", "why")

		s = db.open(t) // the right key: migrates and records it
		var n int
		require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM seal_check`).Scan(&n))
		assert.Equal(t, 1, n, "seal_check rows")
		s.Close()
		_, err = OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other})
		checkMismatch(t, err, other)
	})
}

// Two first opens with different keys at once: only one key is recorded.
func TestConcurrentFirstOpensAgreeOnOneKey(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		keys := [][]byte{db.key, GenerateSealKey()}
		errs := make(chan error, len(keys))
		for _, k := range keys {
			go func() {
				s, err := OpenConfig(context.Background(), Config{DSN: db.dsn, SealKey: k})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		ok := 0
		for range keys {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			require.ErrorIs(t, err, ErrSealKeyMismatch, "open")
		}
		assert.Equal(t, 1, ok, "opens with different keys that succeeded")
	})
}

// Tenants that an older program already deactivated because their tokens did not open
// (the accident the seal check prevents) do not hold the database to the lost key: they
// need a re-approval, sealed with the key in use, in any case.
func TestSealCheckIgnoresInactiveTenants(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		for _, q := range []string{`DROP TABLE seal_check`, `DELETE FROM schema_version WHERE version >= 4`,
			`UPDATE tenants SET status = 'inactive'`} {
			_, err := s.DB().ExecContext(ctx, q)
			require.NoError(t, err, q)
		}
		s.Close()
		other := GenerateSealKey()
		s2, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other})
		require.NoError(t, err, "open with the key now in use")
		s2.Close()
		_, err = OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key})
		checkMismatch(t, err, db.key)
	})
}
