package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tenantStates returns each tenant's status, lease owner and fence, by context key.
func tenantStates(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT context_key, status, lease_owner, fence FROM tenants`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var key, status, owner string
		var fence int64
		if err := rows.Scan(&key, &status, &owner, &fence); err != nil {
			t.Fatal(err)
		}
		m[key] = fmt.Sprintf("%s/%s/%d", status, owner, fence)
	}
	return m
}

func checkMismatch(t *testing.T, err error, key []byte) {
	t.Helper()
	if !errors.Is(err, ErrSealKeyMismatch) {
		t.Fatalf("open with another key: err = %v, want ErrSealKeyMismatch", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "another seal key") || !strings.Contains(msg, "seal key setting") ||
		strings.Contains(msg, EncodeSealKey(key)) || strings.Contains(msg, "SECRET") {
		t.Fatalf("error %q does not name the problem, or leaks a secret", msg)
	}
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
		if after := tenantStates(t, s); len(after) != 2 || after["cust00001"] != before["cust00001"] || after["cust00002"] != before["cust00002"] {
			t.Fatalf("tenants changed by a refused open: %v, were %v", after, before)
		}
		cs, err := s.ClaimDue(ctx, "w", db.clock.Now(), time.Minute, 10)
		if err != nil || len(cs) != 2 {
			t.Fatalf("claim with the right key: %d claims, %v", len(cs), err)
		}
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
		// Back to how schema 3 left it.
		for _, q := range []string{`DROP TABLE seal_check`, `DELETE FROM schema_version WHERE version >= 4`,
			`UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`} {
			var err error
			if strings.Contains(q, "$1") {
				_, err = s.DB().ExecContext(ctx, q, []byte{1, 2, 3})
			} else {
				_, err = s.DB().ExecContext(ctx, q)
			}
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		s.Close()

		other := GenerateSealKey()
		_, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other})
		checkMismatch(t, err, other)
		if !strings.Contains(err.Error(), "none of 2 stored tokens") {
			t.Fatalf("error %q does not say why", err)
		}

		s = db.open(t) // the right key: migrates and records it
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM seal_check`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("seal_check rows: %d, %v", n, err)
		}
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
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrSealKeyMismatch):
				t.Fatalf("open: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of two opens with different keys succeeded", ok)
		}
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
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		s.Close()
		other := GenerateSealKey()
		s2, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: other})
		if err != nil {
			t.Fatalf("open with the key now in use: %v", err)
		}
		s2.Close()
		_, err = OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key})
		checkMismatch(t, err, db.key)
	})
}
