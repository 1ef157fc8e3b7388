package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ClaimDueBy claims only what was due by the cycle's start, so a tenant the
// cycle rescheduled is not claimed again in it.
func TestClaimDueByEndsACycle(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 3 {
			mustUpsert(t, s, approval(i))
		}
		start := db.clock.Now()
		cs, _, err := s.ClaimDueBy(ctx, "w", start, start, time.Minute, 10)
		if err != nil || len(cs) != 3 {
			t.Fatalf("claim: %d, %v", len(cs), err)
		}
		later := db.clock.Advance(5 * time.Second)
		if err := s.Reschedule(ctx, cs[0], Retry{NextRun: later.Add(-time.Second), Err: "503"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, cs[1]); err != nil {
			t.Fatal(err)
		}
		// Due again by now, but not by the cycle's start: only the released one.
		cs2, _, err := s.ClaimDueBy(ctx, "w", later, start, time.Minute, 10)
		if err != nil || len(cs2) != 1 || cs2[0].ContextIdentifier != cs[1].ContextIdentifier {
			t.Fatalf("second claim: %v, %v", cs2, err)
		}
		// The next cycle takes the rescheduled one.
		cs3, _, err := s.ClaimDueBy(ctx, "w", later, later, time.Minute, 10)
		if err != nil || len(cs3) != 1 || cs3[0].ContextIdentifier != cs[0].ContextIdentifier {
			t.Fatalf("next cycle: %v, %v", cs3, err)
		}
		if _, _, err := s.ClaimDueBy(ctx, "", later, later, time.Minute, 10); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty owner: %v", err)
		}
	})
}

// CompleteSuccesses writes a batch, each item fenced by its own claim.
func TestCompleteSuccessesIsFencedPerItem(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 3 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		cs := claimAll(t, s, "a", now)
		if len(cs) != 3 {
			t.Fatalf("claimed %d, want 3", len(cs))
		}
		// cs[2]'s lease runs out and b takes it over.
		later := db.clock.Advance(2 * time.Minute)
		if err := s.Complete(ctx, cs[0], Result{NextRun: later.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Renew(ctx, cs[1], later, time.Minute); err != nil {
			t.Fatal(err)
		}
		if taken, err := s.ClaimDue(ctx, "b", later, time.Minute, 10); err != nil || len(taken) != 1 {
			t.Fatalf("takeover: %v, %v", taken, err)
		}
		var items []Success
		for _, c := range cs {
			items = append(items, Success{Claim: c, NextRun: later.Add(time.Hour), Summary: "done"})
		}
		errs, err := s.CompleteSuccesses(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], ErrLeaseLost) || errs[1] != nil || !errors.Is(errs[2], ErrLeaseLost) {
			t.Fatalf("errs %v", errs)
		}
		tn, err := s.Tenant(ctx, cs[1].ContextIdentifier)
		if err != nil || tn.LastOutcome != OutcomeOK || tn.LastResult != "done" || tn.LeaseOwner != "" {
			t.Fatalf("%+v %v", tn, err)
		}
		if tn, _ := s.Tenant(ctx, cs[2].ContextIdentifier); tn.LeaseOwner != "b" || tn.LastOutcome != OutcomeNone {
			t.Fatalf("the taken-over tenant changed: %+v", tn.TenantSummary)
		}
		if _, err := s.CompleteSuccesses(ctx, []Success{{Claim: cs[1]}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no next run: %v", err)
		}
	})
}

// The messages a run ends with come from the job and the tenant's server:
// a NUL or invalid UTF-8 in them (a message clipped mid-letter) must not
// fail the write that ends the claim, nor the batch of successes it is in.
func TestOddBytesInMessagesAreStored(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 5 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		cs := claimAll(t, s, "w", now)
		if len(cs) != 5 {
			t.Fatalf("claimed %d, want 5", len(cs))
		}
		const odd = "bad \xc3 and \x00 end"
		next := now.Add(time.Hour)
		if err := s.Reschedule(ctx, cs[0], Retry{NextRun: next, Err: odd}); err != nil {
			t.Errorf("reschedule: %v", err)
		}
		if err := s.Postpone(ctx, cs[1], next, odd); err != nil {
			t.Errorf("postpone: %v", err)
		}
		if err := s.Complete(ctx, cs[2], Result{NextRun: next, Err: odd, Deactivate: true, Reason: odd}); err != nil {
			t.Errorf("complete: %v", err)
		}
		errs, err := s.CompleteSuccesses(ctx, []Success{{Claim: cs[3], NextRun: next, Summary: odd}, {Claim: cs[4], NextRun: next, Summary: "fine"}})
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("complete successes: %v, %v", errs, err)
		}
		for i, c := range cs {
			tn, err := s.Tenant(ctx, c.ContextIdentifier)
			if err != nil || tn.LeaseOwner != "" {
				t.Fatalf("%d: %+v, %v", i, tn, err)
			}
			for _, v := range []string{tn.LastError, tn.LastResult, tn.StatusReason} {
				if v != "" && v != "fine" && v != "bad \uFFFD and  end" {
					t.Errorf("%d: stored %q", i, v)
				}
			}
		}
	})
}
