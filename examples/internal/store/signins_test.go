package store

import (
	"context"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUseSignInOnce: a sign-in's state is used once, whichever instance
// sees it, and still after a restart; only its hash is stored.
func TestUseSignInOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t) // two instances on one database
		const state = "state-SECRET-one"
		require.NoError(t, a.UseSignIn(ctx, state, 10*time.Minute))
		assert.ErrorIs(t, a.UseSignIn(ctx, state, 10*time.Minute), ErrSignInUsed, "the same instance")
		assert.ErrorIs(t, b.UseSignIn(ctx, state, 10*time.Minute), ErrSignInUsed, "another instance")
		require.NoError(t, a.Close())
		restarted := db.open(t)
		assert.ErrorIs(t, restarted.UseSignIn(ctx, state, 10*time.Minute), ErrSignInUsed, "after a restart")
		assert.NoError(t, b.UseSignIn(ctx, "state-two", 10*time.Minute), "another sign-in")

		var stored string
		require.NoError(t, b.DB().QueryRowContext(ctx, `SELECT state_hash FROM used_sign_ins ORDER BY used_at LIMIT 1`).Scan(&stored))
		assert.NotContains(t, stored, "SECRET")
		assert.Len(t, stored, 64)
	})
}

// TestUseSignInRace: of many callbacks of one sign-in at once, on two
// instances, exactly one goes on.
func TestUseSignInRace(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		stores := []*Store{db.open(t), db.open(t)}
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = stores[i%2].UseSignIn(ctx, "raced-state", time.Minute) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			assert.ErrorIs(t, err, ErrSignInUsed)
		}
		assert.Equal(t, 1, ok, "callbacks that went on")
	})
}

// TestDeleteExpiredSignIns: records go once their sign-in could no longer
// come back, and not before.
func TestDeleteExpiredSignIns(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		require.NoError(t, s.UseSignIn(ctx, "short", time.Minute))
		require.NoError(t, s.UseSignIn(ctx, "long", time.Hour))
		n, err := s.DeleteExpiredSignIns(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing expired yet")

		db.clock.Advance(2 * time.Minute)
		n, err = s.DeleteExpiredSignIns(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		assert.ErrorIs(t, s.UseSignIn(ctx, "long", time.Hour), ErrSignInUsed, "the live record stays")
	})
}

func TestUseSignInRefusesBadArguments(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	assert.ErrorIs(t, s.UseSignIn(ctx, "", time.Minute), ErrInvalid)
	assert.ErrorIs(t, s.UseSignIn(ctx, "state", 0), ErrInvalid)
}

// TestSignInMigrationIsIdempotent: the table of used sign-ins is created
// once, whatever migrated before, and reopening changes nothing.
func TestSignInMigrationIsIdempotent(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		require.NoError(t, s.UseSignIn(ctx, "kept", time.Hour))
		// A database whose table exists although its migration is not
		// recorded (copied by hand, say) migrates all the same; so do the
		// migrations after it, which are then not recorded either.
		_, err := s.DB().ExecContext(ctx, `DELETE FROM schema_version WHERE version >= 5`)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		again := db.open(t)
		assert.ErrorIs(t, again.UseSignIn(ctx, "kept", time.Hour), ErrSignInUsed)
		var n int
		require.NoError(t, again.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version WHERE name = '0005_sign_ins.sql'`).Scan(&n))
		assert.Equal(t, 1, n)
	})
}

// TestOpenRefusesReadOnlyDatabase: a database that opens but cannot be
// written is refused by Open, not found at the first write. A SQLite file
// whose header says it may only be read is one (file permissions would not
// stop root); a PostgreSQL session that may only read is another.
func TestOpenRefusesReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		db := newSQLiteDB(t)
		makeReadOnly(t, db)
		_, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now})
		require.ErrorIs(t, err, ErrReadOnly)
		assert.Contains(t, err.Error(), "cannot be written")
	})
	t.Run("postgres", func(t *testing.T) {
		db := newPostgresDB(t)
		db.open(t) // migrated, then read only
		u, err := url.Parse(db.dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("default_transaction_read_only", "on")
		u.RawQuery = q.Encode()
		_, err = OpenConfig(ctx, Config{DSN: u.String(), SealKey: db.key, Now: db.clock.Now})
		require.ErrorIs(t, err, ErrReadOnly)
	})
}

// makeReadOnly migrates db's SQLite file, then sets its header's write
// version to 3, which SQLite reads as "open, but only to read".
func makeReadOnly(t *testing.T, db *testDB) {
	t.Helper()
	s, err := OpenConfig(context.Background(), Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now})
	require.NoError(t, err)
	_, err = s.DB().ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	f, err := os.OpenFile(db.dsn, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{3}, 18)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(db.dsn + suffix); err != nil {
			require.ErrorIs(t, err, os.ErrNotExist)
		}
	}
}
