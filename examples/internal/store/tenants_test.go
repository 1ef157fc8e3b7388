package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
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
	if err := s.UpsertTenant(context.Background(), a); err != nil {
		t.Fatalf("UpsertTenant(%s): %v", a.ContextIdentifier, err)
	}
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
		if err := s2.DB().QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &maxV); err != nil {
			t.Fatal(err)
		}
		if n != s2.SchemaVersion() || maxV != s2.SchemaVersion() {
			t.Fatalf("schema_version has %d rows up to %d, want %d", n, maxV, s2.SchemaVersion())
		}
		if _, err := s3.Tenant(ctx, "Cust00001"); err != nil {
			t.Fatalf("tenant lost across reopen: %v", err)
		}
		// A database migrated by a newer program is refused, not silently used.
		if _, err := s2.DB().ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
			t.Fatal(err)
		}
		_, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key})
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("open newer schema: err = %v, want ErrSchemaTooNew", err)
		}
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
			if err != nil {
				t.Fatalf("concurrent open: %v", err)
			}
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
		if err != nil {
			t.Fatal(err)
		}
		if got.SystemUserToken != a.SystemUserToken || got.ContextIdentifier != a.ContextIdentifier ||
			got.CompanyName != a.CompanyName || got.Serial != a.Serial || got.WebAPIURL != a.WebAPIURL ||
			got.ApprovedBy != a.ApprovedBy || got.Status != StatusActive || got.Approvals != 1 {
			t.Fatalf("tenant = %+v", got.TenantSummary)
		}
		if !got.ApprovedAt.Equal(first) || !got.CreatedAt.Equal(first) || !got.NextRun.Equal(first) {
			t.Fatalf("times: approved %v created %v next %v, want %v", got.ApprovedAt, got.CreatedAt, got.NextRun, first)
		}

		// Run it once so that it has history, then deactivate it (revoked token).
		c := claimOne(t, s, "w1", first)
		if err := s.Complete(ctx, c, Result{NextRun: first.Add(time.Hour), Summary: "created company 42"}); err != nil {
			t.Fatal(err)
		}
		c = claimOne(t, s, "w1", db.clock.Advance(2*time.Hour))
		if err := s.Complete(ctx, c, Result{Err: "system user token revoked", Deactivate: true, Reason: "revoked"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Tenant(ctx, a.ContextIdentifier); got.Status != StatusInactive || got.StatusReason != "revoked" {
			t.Fatalf("after deactivate: %s %q", got.Status, got.StatusReason)
		}
		if cs, _ := s.ClaimDue(ctx, "w1", db.clock.Advance(24*time.Hour), time.Minute, 10); len(cs) != 0 {
			t.Fatalf("inactive tenant claimed: %v", cs)
		}

		// Re-approval, spelled differently, with a new token and no company name.
		re := Approval{ContextIdentifier: "CUST00007", SystemUserToken: "SECRET-new-token", ApprovedBy: "other@example.com"}
		now := db.clock.Advance(time.Minute)
		mustUpsert(t, s, re)
		list, err := s.ListTenants(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("re-approval duplicated the tenant: %d rows", len(list))
		}
		got, err = s.Tenant(ctx, "Cust00007")
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			name      string
			got, want any
		}{
			{"token", got.SystemUserToken, re.SystemUserToken},
			{"spelling", got.ContextIdentifier, "CUST00007"},
			{"status", got.Status, StatusActive},
			{"reason", got.StatusReason, ""},
			{"approvals", got.Approvals, int64(2)},
			{"approved by", got.ApprovedBy, "other@example.com"},
			{"company kept", got.CompanyName, a.CompanyName},
			{"serial kept", got.Serial, a.Serial},
			{"url kept", got.WebAPIURL, a.WebAPIURL},
			{"created kept", got.CreatedAt, first},
			{"approved at", got.ApprovedAt, now},
			{"last sync kept", got.LastSync, first},
			{"last result kept", got.LastResult, "created company 42"},
			{"last error kept", got.LastError, "system user token revoked"},
			{"due again", got.NextRun, now},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
			}
		}
		if cs := claimAll(t, s, "w2", now); len(cs) != 1 || cs[0].SystemUserToken != re.SystemUserToken {
			t.Fatalf("reactivated tenant not claimable with its new token: %v", cs)
		}

		// An approval by nobody known is not credited to the previous approver.
		mustUpsert(t, s, Approval{ContextIdentifier: "Cust00007", SystemUserToken: "SECRET-third-token"})
		if got, _ := s.Tenant(ctx, "Cust00007"); got.ApprovedBy != "" || got.CompanyName != a.CompanyName {
			t.Errorf("unnamed approval: approved by %q, company %q; want nobody, %q kept", got.ApprovedBy, got.CompanyName, a.CompanyName)
		}
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
		if err := s.UpsertTenant(ctx, a); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertTenant(%q): err = %v, want ErrInvalid", a.ContextIdentifier, err)
		}
	}
	if _, err := s.Tenant(ctx, "Cust404"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

func TestSealing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		a, b := approval(1), approval(2)
		mustUpsert(t, s, a)
		mustUpsert(t, s, b)

		var raw []byte
		if err := s.DB().QueryRowContext(ctx, `SELECT system_user_token FROM tenants WHERE context_key = 'cust00001'`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(a.SystemUserToken)) {
			t.Fatal("token stored in the clear")
		}

		checkBroken := func(what string) {
			t.Helper()
			_, err := s.Tenant(ctx, a.ContextIdentifier)
			if !errors.Is(err, ErrSealBroken) {
				t.Fatalf("%s: err = %v, want ErrSealBroken", what, err)
			}
			if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), a.ContextIdentifier) {
				t.Fatalf("%s: error %q leaks a token or does not name the tenant", what, err)
			}
		}

		// A flipped bit.
		tampered := bytes.Clone(raw)
		tampered[len(tampered)-1] ^= 1
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, tampered); err != nil {
			t.Fatal(err)
		}
		checkBroken("tampered")

		// B's (valid) sealed token copied into A's row.
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token =
			(SELECT system_user_token FROM tenants WHERE context_key = 'cust00002') WHERE context_key = 'cust00001'`); err != nil {
			t.Fatal(err)
		}
		checkBroken("row swap")

		// Truncated garbage.
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		checkBroken("truncated")

		// The original value opens again where it belongs.
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, raw); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Tenant(ctx, a.ContextIdentifier); err != nil || got.SystemUserToken != a.SystemUserToken {
			t.Fatalf("restored: %v", err)
		}

		// A claim meets a token that does not open: that tenant is deactivated, not handed
		// out and not claimed again in a loop; the others are unaffected.
		var logBuf bytes.Buffer
		swapped, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now,
			Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer swapped.Close()
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = 'cust00001'`, tampered); err != nil {
			t.Fatal(err)
		}
		cs, deactivated, err := swapped.ClaimDueBy(ctx, "w", db.clock.Now(), db.clock.Now(), time.Minute, 10)
		if err != nil || deactivated != 1 {
			t.Fatalf("claim: %d deactivated, %v", deactivated, err)
		}
		if len(cs) != 1 || cs[0].ContextIdentifier != b.ContextIdentifier || cs[0].SystemUserToken != b.SystemUserToken {
			t.Fatalf("claims = %v", cs)
		}
		ta, err := swapped.DB().QueryContext(ctx, `SELECT status, lease_owner FROM tenants WHERE context_key = 'cust00001'`)
		if err != nil {
			t.Fatal(err)
		}
		ta.Next()
		var status, owner string
		ta.Scan(&status, &owner)
		ta.Close()
		if status != "inactive" || owner != "" {
			t.Fatalf("broken tenant: status %q owner %q", status, owner)
		}
		if !strings.Contains(logBuf.String(), a.ContextIdentifier) || strings.Contains(logBuf.String(), "SECRET") {
			t.Fatalf("log: %s", logBuf.String())
		}
	})
}

func TestListHasNoSecrets(t *testing.T) {
	// By construction: the summary type has no field that could hold a token.
	for i, typ := 0, reflect.TypeFor[TenantSummary](); i < typ.NumField(); i++ {
		if n := strings.ToLower(typ.Field(i).Name); strings.Contains(n, "token") || strings.Contains(n, "secret") {
			t.Fatalf("TenantSummary has field %s", typ.Field(i).Name)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 5 {
			t.Fatalf("%d tenants", len(list))
		}
		dump := fmt.Sprintf("%+v %#v", list, list)
		tn, _ := s.Tenant(ctx, apps[0].ContextIdentifier)
		cs := claimAll(t, s, "w", db.clock.Now())
		var logBuf bytes.Buffer
		slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "tenant", tn, "claim", cs[0], "claims", cs)
		dump += fmt.Sprintf("%v %+v %#v %s %v %+v %#v", tn, tn, tn, tn, cs, cs, cs) + logBuf.String()
		for i, a := range apps {
			if list[i].ContextIdentifier != a.ContextIdentifier || list[i].CompanyName != a.CompanyName {
				t.Fatalf("list[%d] = %+v", i, list[i])
			}
		}
		if strings.Contains(dump, "SECRET") {
			t.Fatalf("a token is printable: %s", dump)
		}
	})
}

// claimOne claims exactly one due tenant.
func claimOne(t testing.TB, s *Store, owner string, now time.Time) Claim {
	t.Helper()
	cs, err := s.ClaimDue(context.Background(), owner, now, time.Minute, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("claimed %d tenants, want 1", len(cs))
	}
	return cs[0]
}

func claimAll(t testing.TB, s *Store, owner string, now time.Time) []Claim {
	t.Helper()
	cs, err := s.ClaimDue(context.Background(), owner, now, time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return cs
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
		if err != nil {
			t.Fatal(err)
		}
		if len(c1) != 2 {
			t.Fatalf("claimed %d, want 2", len(c1))
		}
		for _, c := range c1 {
			if c.Owner != "w1" || c.Fence != 1 || !c.LeaseUntil.Equal(now.Add(30*time.Second)) || !strings.HasPrefix(c.SystemUserToken, "SECRET-sut-") {
				t.Fatalf("claim %s: owner %q fence %d until %v", c, c.Owner, c.Fence, c.LeaseUntil)
			}
		}
		c2 := claimAll(t, s, "w2", now)
		if len(c2) != 1 || c2[0].ContextIdentifier == c1[0].ContextIdentifier || c2[0].ContextIdentifier == c1[1].ContextIdentifier {
			t.Fatalf("second claimer got %v (first got %v)", c2, c1)
		}
		if c3 := claimAll(t, s, "w3", now); len(c3) != 0 {
			t.Fatalf("third claimer got %v", c3)
		}
		counts, err := s.Counts(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if counts != (Counts{Total: 3, Active: 3, Leased: 3}) {
			t.Fatalf("counts in flight = %+v", counts)
		}

		at := db.clock.Advance(5 * time.Second)
		next := at.Add(time.Hour)
		if err := s.Complete(ctx, c1[0], Result{At: at, NextRun: next, Summary: "company 1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, c1[0], Result{At: at, NextRun: next}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("second Complete: err = %v, want ErrLeaseLost", err)
		}
		if err := s.Complete(ctx, c1[1], Result{At: at, NextRun: next, Err: "job failed: 400 bad request"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, c2[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, c2[0]); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("second Release: err = %v", err)
		}
		t0, _ := s.Tenant(ctx, c1[0].ContextIdentifier)
		if t0.LastOutcome != OutcomeOK || t0.LastResult != "company 1" || !t0.LastSync.Equal(at) || !t0.NextRun.Equal(next) ||
			t0.LeaseOwner != "" || !t0.LeaseUntil.IsZero() || t0.Fence != 1 {
			t.Fatalf("completed tenant = %+v", t0.TenantSummary)
		}
		t1, _ := s.Tenant(ctx, c1[1].ContextIdentifier)
		if t1.LastOutcome != OutcomeFailed || t1.LastError != "job failed: 400 bad request" || !t1.LastSync.IsZero() || !t1.LastRun.Equal(at) || t1.Status != StatusActive {
			t.Fatalf("failed tenant = %+v", t1.TenantSummary)
		}
		t2, _ := s.Tenant(ctx, c2[0].ContextIdentifier)
		if t2.LastOutcome != OutcomeNone || !t2.NextRun.Equal(now) || t2.LeaseOwner != "" {
			t.Fatalf("released tenant changed: %+v", t2.TenantSummary)
		}
		counts, _ = s.Counts(ctx, at)
		if counts != (Counts{Total: 3, Active: 3, Due: 1, OK: 1, Failed: 1}) {
			t.Fatalf("counts = %+v", counts)
		}
		// The released tenant is claimable at once, with a new fencing token.
		c4 := claimAll(t, s, "w4", at)
		if len(c4) != 1 || c4[0].ContextIdentifier != c2[0].ContextIdentifier || c4[0].Fence != c2[0].Fence+1 {
			t.Fatalf("reclaim after release: %v", c4)
		}
		if err := s.Complete(ctx, c4[0], Result{At: at, NextRun: next}); err != nil {
			t.Fatal(err)
		}
		// Nothing else is due until the next run.
		if cs := claimAll(t, s, "w5", next.Add(-time.Microsecond)); len(cs) != 0 {
			t.Fatalf("claimed before due: %v", cs)
		}
		if cs := claimAll(t, s, "w5", next); len(cs) != 3 {
			t.Fatalf("due at next run: %d claims", len(cs))
		}
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
		if _, err := s.ClaimDue(ctx, tc.owner, now, tc.lease, tc.limit); !errors.Is(err, ErrInvalid) {
			t.Errorf("ClaimDue(%q, %v, %d): err = %v", tc.owner, tc.lease, tc.limit, err)
		}
	}
	c := Claim{ContextIdentifier: "Cust1", Owner: "w", Fence: 1}
	if err := s.Complete(ctx, c, Result{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Complete without next run: %v", err)
	}
	if err := s.Reschedule(ctx, c, Retry{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Reschedule without next run: %v", err)
	}
	if err := s.Postpone(ctx, c, time.Time{}, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Postpone without time: %v", err)
	}
	if err := s.Release(ctx, Claim{ContextIdentifier: "Cust1"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Release without owner: %v", err)
	}
	if err := s.Release(ctx, c); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Release of a tenant that does not exist: %v", err)
	}
	if _, err := s.ReleaseOwner(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReleaseOwner(\"\"): %v", err)
	}
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
		if cs, _ := b.ClaimDue(ctx, "instance-b", t0.Add(lease-time.Microsecond), lease, 10); len(cs) != 0 {
			t.Fatalf("B claimed a leased tenant: %v", cs)
		}
		// A renews once: B must wait for the renewed lease.
		ca, err := a.Renew(ctx, ca, t0.Add(20*time.Second), lease)
		if err != nil {
			t.Fatal(err)
		}
		if cs, _ := b.ClaimDue(ctx, "instance-b", t0.Add(lease+time.Second), lease, 10); len(cs) != 0 {
			t.Fatalf("B claimed a renewed lease: %v", cs)
		}
		// A "dies". When its lease ends B takes over, with a higher fencing token.
		t1 := t0.Add(20*time.Second + lease)
		cb, err := b.ClaimDue(ctx, "instance-b", t1, lease, 10)
		if err != nil || len(cb) != 1 {
			t.Fatalf("takeover: %v %v", cb, err)
		}
		if cb[0].Fence <= ca.Fence {
			t.Fatalf("fence did not move: A %d, B %d", ca.Fence, cb[0].Fence)
		}
		// A's late writes are all refused and change nothing.
		late := Result{At: t1, NextRun: t1.Add(time.Hour), Summary: "late"}
		for name, err := range map[string]error{
			"complete":   a.Complete(ctx, ca, late),
			"deactivate": a.Complete(ctx, ca, Result{Deactivate: true, Reason: "late"}),
			"reschedule": a.Reschedule(ctx, ca, Retry{NextRun: t1.Add(time.Hour), Err: "late"}),
			"postpone":   a.Postpone(ctx, ca, t1.Add(time.Hour), "late"),
			"release":    a.Release(ctx, ca),
		} {
			if !errors.Is(err, ErrLeaseLost) {
				t.Errorf("late %s: err = %v, want ErrLeaseLost", name, err)
			}
		}
		if _, err := a.Renew(ctx, ca, t1, lease); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("late renew: %v", err)
		}
		got, _ := b.Tenant(ctx, "Cust00001")
		if got.LeaseOwner != "instance-b" || got.Fence != cb[0].Fence || got.LastOutcome != OutcomeNone || got.Status != StatusActive {
			t.Fatalf("late write leaked through: %+v", got.TenantSummary)
		}
		if err := b.Complete(ctx, cb[0], Result{At: t1, NextRun: t1.Add(time.Hour), Summary: "b did it"}); err != nil {
			t.Fatal(err)
		}

		// The same owner name, restarted: its old claim is still refused after the
		// lease moved on, because the fencing token decides, not the name.
		t2 := t1.Add(time.Hour)
		old := claimOne(t, a, "same", t2)
		t3 := t2.Add(time.Minute) // claimOne leases for a minute
		fresh := claimOne(t, b, "same", t3)
		if err := a.Complete(ctx, old, Result{At: t3, NextRun: t3.Add(time.Hour)}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("stale claim of the same owner: err = %v", err)
		}
		// An expired lease nobody took over still completes: nothing conflicts.
		t4 := t3.Add(10 * lease)
		if err := b.Complete(ctx, fresh, Result{At: t4, NextRun: t4.Add(time.Hour)}); err != nil {
			t.Fatalf("complete after expiry, no takeover: %v", err)
		}
		if err := b.Complete(ctx, fresh, Result{At: t4, NextRun: t4.Add(time.Hour)}); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "Cust00001") {
			t.Fatalf("complete twice: %v", err)
		}
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
			if c.Attempts != i {
				t.Fatalf("attempt %d: claim says %d", i, c.Attempts)
			}
			now = now.Add(time.Minute)
			if err := s.Reschedule(ctx, c, Retry{At: now, NextRun: now, Err: "503 Service Unavailable"}); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.Tenant(ctx, "Cust00001")
		if got.Attempts != 3 || got.LastOutcome != OutcomeRetry || got.LastError != "503 Service Unavailable" || !got.NextRun.Equal(now) {
			t.Fatalf("after retries: %+v", got.TenantSummary)
		}
		if c, _ := s.Counts(ctx, now); c.Retrying != 1 || c.Due != 1 {
			t.Fatalf("counts: %+v", c)
		}
		c := claimOne(t, s, "w", now)
		until := now.Add(2 * time.Hour)
		if err := s.Postpone(ctx, c, until, "tenant offline"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Tenant(ctx, "Cust00001")
		if got.Attempts != 3 || got.LastOutcome != OutcomeWaiting || !got.NextRun.Equal(until) || got.LastError != "tenant offline" {
			t.Fatalf("after postpone: %+v", got.TenantSummary)
		}
		if cs := claimAll(t, s, "w", until.Add(-time.Second)); len(cs) != 0 {
			t.Fatal("claimed while postponed")
		}
		c = claimOne(t, s, "w", until)
		if err := s.Complete(ctx, c, Result{At: until, NextRun: until.Add(time.Hour), Summary: "ok"}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Tenant(ctx, "Cust00001")
		if got.Attempts != 0 || got.LastError != "" || got.LastOutcome != OutcomeOK {
			t.Fatalf("success did not reset: %+v", got.TenantSummary)
		}
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
		if err := s.Complete(ctx, c, Result{At: now, NextRun: now.Add(time.Minute), Err: "token revoked", Deactivate: true, Reason: "revoked"}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Tenant(ctx, "Cust00001")
		if got.Status != StatusActive || got.SystemUserToken != re.SystemUserToken || got.LastError != "token revoked" {
			t.Fatalf("re-approved tenant: %+v", got.TenantSummary)
		}
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
		mine, _ := s.ClaimDue(ctx, "me", now, time.Hour, 3)
		theirs, _ := s.ClaimDue(ctx, "them", now, time.Hour, 3)
		if len(mine) != 3 || len(theirs) != 2 {
			t.Fatalf("claims %d/%d", len(mine), len(theirs))
		}
		n, err := s.ReleaseOwner(ctx, "me")
		if err != nil || n != 3 {
			t.Fatalf("ReleaseOwner = %d, %v", n, err)
		}
		if c, _ := s.Counts(ctx, now); c.Leased != 2 || c.Due != 3 {
			t.Fatalf("counts after release: %+v", c)
		}
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
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 {
				break
			}
			if len(cs) > batch {
				t.Fatalf("batch of %d", len(cs))
			}
			for _, c := range cs {
				seen[c.ContextIdentifier]++
				if err := s.Complete(ctx, c, Result{At: now, NextRun: now.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(seen) != n {
			t.Fatalf("saw %d tenants, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%s claimed %d times", id, k)
			}
		}
		if c, _ := s.Counts(ctx, now); c.OK != n || c.Due != 0 {
			t.Fatalf("counts: %+v", c)
		}
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
			t.Error(err)
		}
		if len(seen) != tenants {
			t.Fatalf("processed %d tenants, want %d", len(seen), tenants)
		}
		owners := map[string]bool{}
		for _, o := range seen {
			owners[o] = true
		}
		t.Logf("%d tenants spread over %d workers", tenants, len(owners))
		if c, _ := setup.Counts(ctx, now); c.OK != tenants || c.Leased != 0 {
			t.Fatalf("counts: %+v", c)
		}
	})
}
