package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func approval(n int) Approval {
	return Approval{
		ContextIdentifier: fmt.Sprintf("Cust%05d", n),
		SystemUserToken:   fmt.Sprintf("SECRET-sut-%05d-%x", n, GenerateSealKey()[:4]),
		Serial:            fmt.Sprintf("serial-%d", n),
		WebAPIURL:         fmt.Sprintf("https://sod.example/Cust%05d/api/", n),
		CompanyName:       fmt.Sprintf("Company %d", n),
		ApprovedBy:        "admin@example.com",
	}
}

func mustUpsert(t testing.TB, s *Store, a Approval) {
	t.Helper()
	require.NoError(t, s.UpsertTenant(context.Background(), a), "UpsertTenant(%s)", a.ContextIdentifier)
}

func TestMigrationsIdempotent(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s1 := db.open(t)
		mustUpsert(t, s1, approval(1))
		s1.Close()
		s2 := db.open(t) // migrates again: nothing to do, nothing lost
		s3 := db.open(t)
		var n, maxV int
		require.NoError(t, s2.DB().QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &maxV))
		assert.Equal(t, s2.SchemaVersion(), n, "rows in schema_version")
		assert.Equal(t, s2.SchemaVersion(), maxV, "latest version in schema_version")
		_, err := s3.Tenant(ctx, "Cust00001")
		require.NoError(t, err, "tenant lost across reopen")
		// A database migrated by a newer program is refused, not silently used.
		_, err = s2.DB().ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (9999, 'future', 0)`)
		require.NoError(t, err)
		_, err = OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key})
		require.ErrorIs(t, err, ErrSchemaTooNew, "open newer schema")
	})
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				s, err := OpenConfig(context.Background(), Config{DSN: db.dsn, SealKey: db.key})
				if err == nil {
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "concurrent open")
		}
	})
}

func TestUpsertAndReapproval(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		a := approval(7)
		mustUpsert(t, s, a)
		first := db.clock.Now()

		got, err := s.Tenant(ctx, "cust00007") // case-insensitive
		require.NoError(t, err)
		assert.Equal(t, a.SystemUserToken, got.SystemUserToken, "token")
		assert.Equal(t, a.ContextIdentifier, got.ContextIdentifier, "context identifier")
		assert.Equal(t, a.CompanyName, got.CompanyName, "company")
		assert.Equal(t, a.Serial, got.Serial, "serial")
		assert.Equal(t, a.WebAPIURL, got.WebAPIURL, "url")
		assert.Equal(t, a.ApprovedBy, got.ApprovedBy, "approved by")
		assert.Equal(t, StatusActive, got.Status, "status")
		assert.Equal(t, int64(1), got.Approvals, "approvals")
		assert.Equal(t, first, got.ApprovedAt, "approved at")
		assert.Equal(t, first, got.CreatedAt, "created at")
		assert.Equal(t, first, got.NextRun, "next run")

		// Run it once so that it has history, then deactivate it (revoked token).
		c := claimOne(t, s, "w1", first)
		require.NoError(t, s.Complete(ctx, c, Result{NextRun: first.Add(time.Hour), Summary: "created company 42"}))
		c = claimOne(t, s, "w1", db.clock.Advance(2*time.Hour))
		require.NoError(t, s.Complete(ctx, c, Result{Err: "system user token revoked", Deactivate: true, Reason: "revoked"}))
		got, err = s.Tenant(ctx, a.ContextIdentifier)
		require.NoError(t, err)
		assert.Equal(t, StatusInactive, got.Status, "after deactivate")
		assert.Equal(t, "revoked", got.StatusReason, "after deactivate")
		cs, err := s.ClaimDue(ctx, "w1", db.clock.Advance(24*time.Hour), time.Minute, 10)
		require.NoError(t, err)
		require.Empty(t, cs, "inactive tenant claimed")

		// Re-approval, spelled differently, with a new token and no company name.
		re := Approval{ContextIdentifier: "CUST00007", SystemUserToken: "SECRET-new-token", ApprovedBy: "other@example.com"}
		now := db.clock.Advance(time.Minute)
		mustUpsert(t, s, re)
		list, err := s.ListTenants(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1, "re-approval duplicated the tenant")
		got, err = s.Tenant(ctx, "Cust00007")
		require.NoError(t, err)
		assert.Equal(t, re.SystemUserToken, got.SystemUserToken, "token")
		assert.Equal(t, "CUST00007", got.ContextIdentifier, "spelling")
		assert.Equal(t, StatusActive, got.Status, "status")
		assert.Empty(t, got.StatusReason, "reason")
		assert.Equal(t, int64(2), got.Approvals, "approvals")
		assert.Equal(t, "other@example.com", got.ApprovedBy, "approved by")
		assert.Equal(t, a.CompanyName, got.CompanyName, "company kept")
		assert.Equal(t, a.Serial, got.Serial, "serial kept")
		assert.Equal(t, a.WebAPIURL, got.WebAPIURL, "url kept")
		assert.Equal(t, first, got.CreatedAt, "created kept")
		assert.Equal(t, now, got.ApprovedAt, "approved at")
		assert.Equal(t, first, got.LastSync, "last sync kept")
		assert.Equal(t, "created company 42", got.LastResult, "last result kept")
		assert.Equal(t, "system user token revoked", got.LastError, "last error kept")
		assert.Equal(t, now, got.NextRun, "due again")
		cs = claimAll(t, s, "w2", now)
		require.Len(t, cs, 1, "reactivated tenant not claimable")
		assert.Equal(t, re.SystemUserToken, cs[0].SystemUserToken, "reactivated tenant claimed without its new token")

		// An approval by nobody known is not credited to the previous approver.
		mustUpsert(t, s, Approval{ContextIdentifier: "Cust00007", SystemUserToken: "SECRET-third-token"})
		got, err = s.Tenant(ctx, "Cust00007")
		require.NoError(t, err)
		assert.Empty(t, got.ApprovedBy, "unnamed approval credited to someone")
		assert.Equal(t, a.CompanyName, got.CompanyName, "unnamed approval: company kept")
	})
}

func TestUpsertTenantRejects(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	for _, a := range []Approval{
		{ContextIdentifier: "", SystemUserToken: "x"},
		{ContextIdentifier: "Cust 1", SystemUserToken: "x"},
		{ContextIdentifier: "Cust\n1", SystemUserToken: "x"},
		{ContextIdentifier: strings.Repeat("c", 201), SystemUserToken: "x"},
		{ContextIdentifier: "Cust1", SystemUserToken: ""},
	} {
		assert.ErrorIs(t, s.UpsertTenant(ctx, a), ErrInvalid, "UpsertTenant(%q)", a.ContextIdentifier)
	}
	_, err := s.Tenant(ctx, "Cust404")
	require.ErrorIs(t, err, ErrNotFound, "unknown tenant")
}

func TestSealing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		a, b := approval(1), approval(2)
		mustUpsert(t, s, a)
		mustUpsert(t, s, b)

		var raw []byte
		require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT system_user_token FROM tenants WHERE context_key = 'cust00001'`).Scan(&raw))
		require.NotContains(t, string(raw), a.SystemUserToken, "token stored in the clear")

		checkBroken := func(what string) {
			t.Helper()
			_, err := s.Tenant(ctx, a.ContextIdentifier)
			require.ErrorIs(t, err, ErrSealBroken, what)
			require.NotContains(t, err.Error(), "SECRET", "%s: the error leaks a token", what)
			require.Contains(t, err.Error(), a.ContextIdentifier, "%s: the error does not name the tenant", what)
		}

		// A flipped bit.
		tampered := bytes.Clone(raw)
		tampered[len(tampered)-1] ^= 1
		_, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, tampered)
		require.NoError(t, err)
		checkBroken("tampered")

		// B's (valid) sealed token copied into A's row.
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token =
			(SELECT system_user_token FROM tenants WHERE context_key = 'cust00002') WHERE context_key = 'cust00001'`)
		require.NoError(t, err)
		checkBroken("row swap")

		// Truncated garbage.
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, []byte{1, 2})
		require.NoError(t, err)
		checkBroken("truncated")

		// The original value opens again where it belongs.
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, raw)
		require.NoError(t, err, "restore")
		got, err := s.Tenant(ctx, a.ContextIdentifier)
		require.NoError(t, err, "restored")
		require.Equal(t, a.SystemUserToken, got.SystemUserToken, "restored")

		// A claim meets a token that does not open: that tenant is deactivated, not handed
		// out and not claimed again in a loop; the others are unaffected.
		var logBuf bytes.Buffer
		swapped, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now,
			Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		require.NoError(t, err)
		defer swapped.Close()
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, tampered)
		require.NoError(t, err)
		cs, deactivated, err := swapped.ClaimDueBy(ctx, "w", db.clock.Now(), db.clock.Now(), time.Minute, 10)
		require.NoError(t, err, "claim")
		require.Equal(t, 1, deactivated, "tenants deactivated by the claim")
		require.Len(t, cs, 1, "claims")
		assert.Equal(t, b.ContextIdentifier, cs[0].ContextIdentifier, "claimed tenant")
		assert.Equal(t, b.SystemUserToken, cs[0].SystemUserToken, "claimed token")
		var status, owner string
		require.NoError(t, swapped.DB().QueryRowContext(ctx, `SELECT status, lease_owner FROM tenants WHERE context_key = 'cust00001'`).Scan(&status, &owner))
		assert.Equal(t, "inactive", status, "broken tenant's status")
		assert.Empty(t, owner, "broken tenant's lease owner")
		assert.Contains(t, logBuf.String(), a.ContextIdentifier, "the log does not name the tenant")
		assert.NotContains(t, logBuf.String(), "SECRET", "the log leaks a token")
	})
}

func TestListHasNoSecrets(t *testing.T) {
	// By construction: the summary type has no field that could hold a token.
	for i, typ := 0, reflect.TypeFor[TenantSummary](); i < typ.NumField(); i++ {
		n := strings.ToLower(typ.Field(i).Name)
		assert.NotContains(t, n, "token", "TenantSummary has field %s", typ.Field(i).Name)
		assert.NotContains(t, n, "secret", "TenantSummary has field %s", typ.Field(i).Name)
	}
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		var apps []Approval
		for i := range 5 {
			apps = append(apps, approval(i))
			mustUpsert(t, s, apps[i])
		}
		list, err := s.ListTenants(ctx)
		require.NoError(t, err)
		require.Len(t, list, 5)
		dump := fmt.Sprintf("%+v %#v", list, list)
		tn, err := s.Tenant(ctx, apps[0].ContextIdentifier)
		require.NoError(t, err)
		cs := claimAll(t, s, "w", db.clock.Now())
		require.NotEmpty(t, cs)
		var logBuf bytes.Buffer
		slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "tenant", tn, "claim", cs[0], "claims", cs)
		dump += fmt.Sprintf("%v %+v %#v %s %v %+v %#v", tn, tn, tn, tn, cs, cs, cs) + logBuf.String()
		for i, a := range apps {
			assert.Equal(t, a.ContextIdentifier, list[i].ContextIdentifier, "list[%d]", i)
			assert.Equal(t, a.CompanyName, list[i].CompanyName, "list[%d]", i)
		}
		assert.NotContains(t, dump, "SECRET", "a token is printable")
	})
}

// claimOne claims exactly one due tenant.
func claimOne(t testing.TB, s *Store, owner string, now time.Time) Claim {
	t.Helper()
	cs, err := s.ClaimDue(context.Background(), owner, now, time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, cs, 1, "claimed tenants")
	return cs[0]
}

func claimAll(t testing.TB, s *Store, owner string, now time.Time) []Claim {
	t.Helper()
	cs, err := s.ClaimDue(context.Background(), owner, now, time.Minute, 1000)
	require.NoError(t, err)
	return cs
}

// mustTenant reads one tenant, which must exist.
func mustTenant(t testing.TB, s *Store, contextID string) *Tenant {
	t.Helper()
	got, err := s.Tenant(context.Background(), contextID)
	require.NoError(t, err)
	return got
}

// mustCounts reads the counts at now.
func mustCounts(t testing.TB, s *Store, now time.Time) Counts {
	t.Helper()
	c, err := s.Counts(context.Background(), now)
	require.NoError(t, err)
	return c
}

func TestClaimCompleteRelease(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 3 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		c1, err := s.ClaimDue(ctx, "w1", now, 30*time.Second, 2)
		require.NoError(t, err)
		require.Len(t, c1, 2)
		for _, c := range c1 {
			assert.Equal(t, "w1", c.Owner, "claim %s: owner", c)
			assert.Equal(t, int64(1), c.Fence, "claim %s: fence", c)
			assert.Equal(t, now.Add(30*time.Second), c.LeaseUntil, "claim %s: lease until", c)
			assert.True(t, strings.HasPrefix(c.SystemUserToken, "SECRET-sut-"), "claim %s: token not opened", c)
		}
		c2 := claimAll(t, s, "w2", now)
		require.Len(t, c2, 1, "second claimer")
		require.NotContains(t, []string{c1[0].ContextIdentifier, c1[1].ContextIdentifier}, c2[0].ContextIdentifier,
			"second claimer got a tenant of the first")
		require.Empty(t, claimAll(t, s, "w3", now), "third claimer")
		require.Equal(t, Counts{Total: 3, Active: 3, Leased: 3}, mustCounts(t, s, now), "counts in flight")

		at := db.clock.Advance(5 * time.Second)
		next := at.Add(time.Hour)
		require.NoError(t, s.Complete(ctx, c1[0], Result{At: at, NextRun: next, Summary: "company 1"}))
		require.ErrorIs(t, s.Complete(ctx, c1[0], Result{At: at, NextRun: next}), ErrLeaseLost, "second Complete")
		require.NoError(t, s.Complete(ctx, c1[1], Result{At: at, NextRun: next, Err: "job failed: 400 bad request"}))
		require.NoError(t, s.Release(ctx, c2[0]))
		require.ErrorIs(t, s.Release(ctx, c2[0]), ErrLeaseLost, "second Release")

		t0 := mustTenant(t, s, c1[0].ContextIdentifier)
		assert.Equal(t, OutcomeOK, t0.LastOutcome, "completed tenant: outcome")
		assert.Equal(t, "company 1", t0.LastResult, "completed tenant: result")
		assert.Equal(t, at, t0.LastSync, "completed tenant: last sync")
		assert.Equal(t, next, t0.NextRun, "completed tenant: next run")
		assert.Empty(t, t0.LeaseOwner, "completed tenant: lease owner")
		assert.Zero(t, t0.LeaseUntil, "completed tenant: lease until")
		assert.Equal(t, int64(1), t0.Fence, "completed tenant: fence")

		t1 := mustTenant(t, s, c1[1].ContextIdentifier)
		assert.Equal(t, OutcomeFailed, t1.LastOutcome, "failed tenant: outcome")
		assert.Equal(t, "job failed: 400 bad request", t1.LastError, "failed tenant: error")
		assert.Zero(t, t1.LastSync, "failed tenant: last sync")
		assert.Equal(t, at, t1.LastRun, "failed tenant: last run")
		assert.Equal(t, StatusActive, t1.Status, "failed tenant: status")

		t2 := mustTenant(t, s, c2[0].ContextIdentifier)
		assert.Equal(t, OutcomeNone, t2.LastOutcome, "released tenant: outcome")
		assert.Equal(t, now, t2.NextRun, "released tenant: next run")
		assert.Empty(t, t2.LeaseOwner, "released tenant: lease owner")

		require.Equal(t, Counts{Total: 3, Active: 3, Due: 1, OK: 1, Failed: 1}, mustCounts(t, s, at))
		// The released tenant is claimable at once, with a new fencing token.
		c4 := claimAll(t, s, "w4", at)
		require.Len(t, c4, 1, "reclaim after release")
		require.Equal(t, c2[0].ContextIdentifier, c4[0].ContextIdentifier, "reclaim after release")
		require.Equal(t, c2[0].Fence+1, c4[0].Fence, "reclaim after release: fence")
		require.NoError(t, s.Complete(ctx, c4[0], Result{At: at, NextRun: next}))
		// Nothing else is due until the next run.
		require.Empty(t, claimAll(t, s, "w5", next.Add(-time.Microsecond)), "claimed before due")
		require.Len(t, claimAll(t, s, "w5", next), 3, "due at next run")
	})
}

func TestClaimArguments(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		owner string
		lease time.Duration
		limit int
	}{{"", time.Minute, 1}, {"w", 0, 1}, {"w", time.Minute, 0}} {
		_, err := s.ClaimDue(ctx, tc.owner, now, tc.lease, tc.limit)
		assert.ErrorIs(t, err, ErrInvalid, "ClaimDue(%q, %v, %d)", tc.owner, tc.lease, tc.limit)
	}
	c := Claim{ContextIdentifier: "Cust1", Owner: "w", Fence: 1}
	assert.ErrorIs(t, s.Complete(ctx, c, Result{}), ErrInvalid, "Complete without next run")
	assert.ErrorIs(t, s.Reschedule(ctx, c, Retry{}), ErrInvalid, "Reschedule without next run")
	assert.ErrorIs(t, s.Postpone(ctx, c, time.Time{}, ""), ErrInvalid, "Postpone without time")
	assert.ErrorIs(t, s.Release(ctx, Claim{ContextIdentifier: "Cust1"}), ErrInvalid, "Release without owner")
	assert.ErrorIs(t, s.Release(ctx, c), ErrLeaseLost, "Release of a tenant that does not exist")
	_, err := s.ReleaseOwner(ctx, "")
	assert.ErrorIs(t, err, ErrInvalid, `ReleaseOwner("")`)
}

func TestLeaseExpiryAndFencing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t) // two instances
		mustUpsert(t, a, approval(1))
		t0 := db.clock.Now()
		lease := 30 * time.Second

		ca := claimOne(t, a, "instance-a", t0)
		// While A's lease runs, B gets nothing.
		cs, err := b.ClaimDue(ctx, "instance-b", t0.Add(lease-time.Microsecond), lease, 10)
		require.NoError(t, err)
		require.Empty(t, cs, "B claimed a leased tenant")
		// A renews once: B must wait for the renewed lease.
		ca, err = a.Renew(ctx, ca, t0.Add(20*time.Second), lease)
		require.NoError(t, err)
		cs, err = b.ClaimDue(ctx, "instance-b", t0.Add(lease+time.Second), lease, 10)
		require.NoError(t, err)
		require.Empty(t, cs, "B claimed a renewed lease")
		// A "dies". When its lease ends B takes over, with a higher fencing token.
		t1 := t0.Add(20*time.Second + lease)
		cb, err := b.ClaimDue(ctx, "instance-b", t1, lease, 10)
		require.NoError(t, err, "takeover")
		require.Len(t, cb, 1, "takeover")
		require.Greater(t, cb[0].Fence, ca.Fence, "fence did not move")
		// A's late writes are all refused and change nothing.
		late := Result{At: t1, NextRun: t1.Add(time.Hour), Summary: "late"}
		for name, err := range map[string]error{
			"complete":   a.Complete(ctx, ca, late),
			"deactivate": a.Complete(ctx, ca, Result{Deactivate: true, Reason: "late"}),
			"reschedule": a.Reschedule(ctx, ca, Retry{NextRun: t1.Add(time.Hour), Err: "late"}),
			"postpone":   a.Postpone(ctx, ca, t1.Add(time.Hour), "late"),
			"release":    a.Release(ctx, ca),
		} {
			assert.ErrorIs(t, err, ErrLeaseLost, "late %s", name)
		}
		_, err = a.Renew(ctx, ca, t1, lease)
		assert.ErrorIs(t, err, ErrLeaseLost, "late renew")
		got := mustTenant(t, b, "Cust00001")
		assert.Equal(t, "instance-b", got.LeaseOwner, "late write leaked through: lease owner")
		assert.Equal(t, cb[0].Fence, got.Fence, "late write leaked through: fence")
		assert.Equal(t, OutcomeNone, got.LastOutcome, "late write leaked through: outcome")
		assert.Equal(t, StatusActive, got.Status, "late write leaked through: status")
		require.NoError(t, b.Complete(ctx, cb[0], Result{At: t1, NextRun: t1.Add(time.Hour), Summary: "b did it"}))

		// The same owner name, restarted: its old claim is still refused after the
		// lease moved on, because the fencing token decides, not the name.
		t2 := t1.Add(time.Hour)
		old := claimOne(t, a, "same", t2)
		t3 := t2.Add(time.Minute) // claimOne leases for a minute
		fresh := claimOne(t, b, "same", t3)
		require.ErrorIs(t, a.Complete(ctx, old, Result{At: t3, NextRun: t3.Add(time.Hour)}), ErrLeaseLost, "stale claim of the same owner")
		// An expired lease nobody took over still completes: nothing conflicts.
		t4 := t3.Add(10 * lease)
		require.NoError(t, b.Complete(ctx, fresh, Result{At: t4, NextRun: t4.Add(time.Hour)}), "complete after expiry, no takeover")
		err = b.Complete(ctx, fresh, Result{At: t4, NextRun: t4.Add(time.Hour)})
		require.ErrorIs(t, err, ErrLeaseLost, "complete twice")
		require.ErrorContains(t, err, "Cust00001", "complete twice")
	})
}

func TestRescheduleAndPostpone(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		now := db.clock.Now()
		for i := range 3 {
			c := claimOne(t, s, "w", now)
			require.Equal(t, i, c.Attempts, "attempt %d: the claim's attempts", i)
			now = now.Add(time.Minute)
			require.NoError(t, s.Reschedule(ctx, c, Retry{At: now, NextRun: now, Err: "503 Service Unavailable"}))
		}
		got := mustTenant(t, s, "Cust00001")
		assert.Equal(t, 3, got.Attempts, "after retries: attempts")
		assert.Equal(t, OutcomeRetry, got.LastOutcome, "after retries: outcome")
		assert.Equal(t, "503 Service Unavailable", got.LastError, "after retries: error")
		assert.Equal(t, now, got.NextRun, "after retries: next run")
		c := mustCounts(t, s, now)
		assert.Equal(t, 1, c.Retrying, "counts: retrying")
		assert.Equal(t, 1, c.Due, "counts: due")

		claim := claimOne(t, s, "w", now)
		until := now.Add(2 * time.Hour)
		require.NoError(t, s.Postpone(ctx, claim, until, "tenant offline"))
		got = mustTenant(t, s, "Cust00001")
		assert.Equal(t, 3, got.Attempts, "after postpone: attempts")
		assert.Equal(t, OutcomeWaiting, got.LastOutcome, "after postpone: outcome")
		assert.Equal(t, until, got.NextRun, "after postpone: next run")
		assert.Equal(t, "tenant offline", got.LastError, "after postpone: error")
		require.Empty(t, claimAll(t, s, "w", until.Add(-time.Second)), "claimed while postponed")
		claim = claimOne(t, s, "w", until)
		require.NoError(t, s.Complete(ctx, claim, Result{At: until, NextRun: until.Add(time.Hour), Summary: "ok"}))
		got = mustTenant(t, s, "Cust00001")
		assert.Zero(t, got.Attempts, "success did not reset the attempts")
		assert.Empty(t, got.LastError, "success did not reset the error")
		assert.Equal(t, OutcomeOK, got.LastOutcome, "outcome after success")
	})
}

func TestDeactivateSkippedAfterReapproval(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		c := claimOne(t, s, "w", db.clock.Now())
		// While the worker finds the old token revoked, the administrator approves again.
		re := approval(1)
		mustUpsert(t, s, re)
		now := db.clock.Now()
		require.NoError(t, s.Complete(ctx, c, Result{At: now, NextRun: now.Add(time.Minute), Err: "token revoked", Deactivate: true, Reason: "revoked"}))
		got := mustTenant(t, s, "Cust00001")
		assert.Equal(t, StatusActive, got.Status, "re-approved tenant: status")
		assert.Equal(t, re.SystemUserToken, got.SystemUserToken, "re-approved tenant: token")
		assert.Equal(t, "token revoked", got.LastError, "re-approved tenant: error")
	})
}

func TestReleaseOwner(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 5 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		mine, err := s.ClaimDue(ctx, "me", now, time.Hour, 3)
		require.NoError(t, err)
		theirs, err := s.ClaimDue(ctx, "them", now, time.Hour, 3)
		require.NoError(t, err)
		require.Len(t, mine, 3)
		require.Len(t, theirs, 2)
		n, err := s.ReleaseOwner(ctx, "me")
		require.NoError(t, err)
		require.Equal(t, int64(3), n, "released")
		c := mustCounts(t, s, now)
		assert.Equal(t, 2, c.Leased, "counts after release: leased")
		assert.Equal(t, 3, c.Due, "counts after release: due")
	})
}

// TestClaimsStream walks many tenants in small batches: every tenant exactly once, and
// no batch larger than asked for.
func TestClaimsStream(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		const n, batch = 1200, 50
		for i := range n {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		seen := map[string]int{}
		for {
			cs, err := s.ClaimDue(ctx, "w", now, time.Minute, batch)
			require.NoError(t, err)
			if len(cs) == 0 {
				break
			}
			require.LessOrEqual(t, len(cs), batch, "batch size")
			for _, c := range cs {
				seen[c.ContextIdentifier]++
				require.NoError(t, s.Complete(ctx, c, Result{At: now, NextRun: now.Add(time.Hour)}))
			}
		}
		require.Len(t, seen, n, "tenants seen")
		for id, k := range seen {
			require.Equal(t, 1, k, "%s: times claimed", id)
		}
		c := mustCounts(t, s, now)
		assert.Equal(t, n, c.OK, "counts: ok")
		assert.Zero(t, c.Due, "counts: due")
	})
}

// TestConcurrentClaimers runs several instances (each its own *Store, as separate
// processes would be) with several workers each: no tenant is ever held by two claims,
// and every tenant is processed exactly once.
func TestConcurrentClaimers(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		const tenants, instances, workers, batch = 300, 3, 3, 7
		setup := db.open(t)
		for i := range tenants {
			mustUpsert(t, setup, approval(i))
		}
		now := db.clock.Now()
		var mu sync.Mutex
		seen := map[string]string{}
		var wg sync.WaitGroup
		errs := make(chan error, instances*workers)
		for i := range instances {
			s := db.open(t)
			for w := range workers {
				owner := fmt.Sprintf("i%d-w%d", i, w)
				wg.Go(func() {
					for {
						cs, err := s.ClaimDue(ctx, owner, now, time.Hour, batch)
						if err != nil {
							errs <- err
							return
						}
						if len(cs) == 0 {
							return
						}
						for _, c := range cs {
							mu.Lock()
							prev, dup := seen[c.ContextIdentifier]
							seen[c.ContextIdentifier] = owner
							mu.Unlock()
							if dup {
								errs <- fmt.Errorf("%s claimed by %s and %s", c.ContextIdentifier, prev, owner)
								return
							}
							if err := s.Complete(ctx, c, Result{At: now, NextRun: now.Add(time.Hour), Summary: owner}); err != nil {
								errs <- err
								return
							}
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		require.Len(t, seen, tenants, "tenants processed")
		owners := map[string]bool{}
		for _, o := range seen {
			owners[o] = true
		}
		t.Logf("%d tenants spread over %d workers", tenants, len(owners))
		c := mustCounts(t, setup, now)
		assert.Equal(t, tenants, c.OK, "counts: ok")
		assert.Zero(t, c.Leased, "counts: leased")
	})
}
