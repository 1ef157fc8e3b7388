package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// A web app stores an approval; a worker claims due tenants in batches, runs its job,
// and records the result under the claim's fencing token.
func Example() {
	ctx := context.Background()
	s, err := store.Open(ctx, ":memory:", store.GenerateSealKey())
	if err != nil {
		panic(err)
	}
	defer s.Close()

	err = s.UpsertTenant(ctx, store.Approval{
		ContextIdentifier: "Cust12345",
		SystemUserToken:   "token-from-the-id-token",
		WebAPIURL:         "https://sod.superoffice.com/Cust12345/api/",
		ApprovedBy:        "admin@example.com",
	})
	if err != nil {
		panic(err)
	}

	owner := store.NewOwner()
	now := time.Now()
	for {
		claims, err := s.ClaimDue(ctx, owner, now, time.Minute, 100)
		if err != nil {
			panic(err)
		}
		if len(claims) == 0 {
			break
		}
		for _, c := range claims {
			// ... sign c.SystemUserToken, exchange it, call c.WebAPIURL ...
			err := s.Complete(ctx, c, store.Result{NextRun: now.Add(time.Hour), Summary: "created company 42"})
			if errors.Is(err, store.ErrLeaseLost) {
				continue // another instance took the tenant over; it records its own result
			}
			if err != nil {
				panic(err)
			}
		}
	}
	counts, _ := s.Counts(ctx, now)
	fmt.Printf("tenants %d, ok %d, due %d\n", counts.Total, counts.OK, counts.Due)
	// Output: tenants 1, ok 1, due 0
}

// A late write from an instance whose lease ran out and whose tenant was taken over is
// refused.
func ExampleStore_Complete_leaseLost() {
	ctx := context.Background()
	s, _ := store.Open(ctx, ":memory:", store.GenerateSealKey())
	defer s.Close()
	s.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "t"})

	t0 := time.Now()
	a, _ := s.ClaimDue(ctx, "instance-a", t0, time.Minute, 10)
	b, _ := s.ClaimDue(ctx, "instance-b", t0.Add(2*time.Minute), time.Minute, 10) // a's lease ended

	err := s.Complete(ctx, a[0], store.Result{NextRun: t0.Add(time.Hour)})
	fmt.Println(errors.Is(err, store.ErrLeaseLost), err)
	fmt.Println(s.Complete(ctx, b[0], store.Result{NextRun: t0.Add(time.Hour)}))
	// Output:
	// true store: complete Cust1: lease lost
	// <nil>
}

// Session ids rotate at sign-in; the old id is worthless afterwards.
func ExampleStore_RotateSession() {
	ctx := context.Background()
	s, _ := store.Open(ctx, ":memory:", store.GenerateSealKey())
	defer s.Close()

	id, _ := s.CreateSession(ctx, store.SessionData{CSRFToken: "x"}, time.Hour)
	newID, _ := s.RotateSession(ctx, id, 0)
	_, err := s.Session(ctx, id)
	fmt.Println(errors.Is(err, store.ErrNotFound))
	sess, _ := s.Session(ctx, newID)
	fmt.Println(sess.Data.CSRFToken)
	// Output:
	// true
	// x
}
