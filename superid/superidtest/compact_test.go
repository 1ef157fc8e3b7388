package superidtest

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Companies round-trip through the compact store exactly, with every
// field or with only those a new company has, and what Contacts returns
// is the caller's own.
func TestStoredContactsRoundTrip(t *testing.T) {
	f := newAPIFixture(t)
	created := time.Date(2025, 3, 14, 9, 26, 53, 123456700, time.UTC)
	full := Contact{Name: "Full AS", Department: "Sales", OrgNr: "123", Number1: "n1", Number2: "n2",
		Description: "d", CategoryID: 2, BusinessID: 3, CountryID: 752, Emails: []string{"a@example.com"},
		Phones: []string{"+47 1"}, URLs: []string{"https://example.com"}, AssociateID: 7, CreatedBy: 7,
		UpdatedBy: 8, Created: created, Updated: created.Add(time.Hour)}
	bare := Contact{Name: "SuperId-1741944413", CountryID: 578, AssociateID: 1, CreatedBy: 1, Created: created}
	// Values the compact row cannot hold exactly are kept whole.
	oslo := Contact{Name: "Oslo AS", Created: created.In(time.FixedZone("CET", 3600))}
	wide := Contact{Name: "Wide AS", AssociateID: 1 << 40, Created: created}
	var want []Contact
	for _, c := range []Contact{full, bare, oslo, wide} {
		got, err := f.e.AddContact(apiCtx, c)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, got)
	}
	got := f.e.Contacts(apiCtx)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Contacts:\n got %+v\nwant %+v", got, want)
	}
	if got[2].Created.Location().String() != "CET" {
		t.Fatalf("the time zone was lost: %v", got[2].Created)
	}
	got[0].Emails[0] = "changed"
	if f.e.Contacts(apiCtx)[0].Emails[0] != "a@example.com" {
		t.Fatal("Contacts shares its slices with the store")
	}

	// A bare company updated with more fields keeps them; deleted, it is gone.
	status, _ := f.call("PUT", "/Cust777/api/v1/Contact/2", `{"Name":"Bare AS","Department":"HQ","Emails":[{"Value":"x@example.com"}]}`)
	if status != 200 {
		t.Fatalf("PUT: %d", status)
	}
	c := f.e.Contacts(apiCtx)[1]
	if c.Name != "Bare AS" || c.Department != "HQ" || len(c.Emails) != 1 || c.UpdatedBy != SystemUserAssociateID || !c.Created.Equal(created) {
		t.Fatalf("after PUT: %+v", c)
	}
	if status, _ := f.call("DELETE", "/Cust777/api/v1/Contact/1", ""); status != 204 {
		t.Fatalf("DELETE: %d", status)
	}
	if cs := f.e.Contacts(apiCtx); len(cs) != 3 || cs[0].ContactID != 2 {
		t.Fatalf("after DELETE: %+v", cs)
	}
}

// A company created through the API, as the console's job does, costs
// the emulator little: the scale demo creates ten thousand of them.
func TestCreatedCompanyIsSmall(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(0))
	const n = 2000
	body := `{"ContactId":0,"Name":"SuperId-1741944413","Country":{"CountryId":578},"Associate":{"AssociateId":1}}`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		if status, _ := f.call("POST", "/Cust777/api/v1/Contact", body); status != 200 {
			t.Fatalf("POST: %d", status)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per stored company", per)
	// A Contact alone is some 280 bytes; the packed row with its name about 80.
	if per > 120 {
		t.Errorf("%d bytes per stored company, want at most 120", per)
	}
	runtime.KeepAlive(f)
}

// Tickets parse back into what made them, and nothing else parses.
func FuzzParseTicket(f *testing.F) {
	f.Add("7T:" + strings.Repeat("A", 40))
	f.Add(newTicket("Cust100", 3, [16]byte{1, 2, 3}))
	f.Add("7T:bogus")
	f.Fuzz(func(t *testing.T, s string) {
		ctx, n, id, ok := parseTicket(s)
		if ok && newTicket(ctx, n, id) != s && strings.Count(ctx, ";") == 0 {
			// Another encoding of the same parts (base64 padding bits,
			// upper-case hex) may parse; it must name a real ticket's parts.
			if _, n2, id2, ok2 := parseTicket(newTicket(ctx, n, id)); !ok2 || n2 != n || id2 != id {
				t.Fatalf("%q parses to parts that do not round-trip", s)
			}
		}
	})
}

func TestTicketParts(t *testing.T) {
	id := [16]byte{0xde, 0xad, 0xbe, 0xef}
	ctx, n, got, ok := parseTicket(newTicket("Cust100", 42, id))
	if !ok || ctx != "Cust100" || n != 42 || got != id {
		t.Fatalf("parseTicket = %q %d %x %v", ctx, n, got, ok)
	}
	for _, bad := range []string{"", "7T:", "7T:!!", "SOTicket x", "7T:" + strings.Repeat("QQ", 600)} {
		if _, _, _, ok := parseTicket(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// Dead tickets are dropped when a tenant gets a new one, so a tenant
// exchanged every few hours does not pile them up.
func TestDeadTicketsPruned(t *testing.T) {
	clk := &testClock{t: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
	f := newAPIFixture(t, WithClock(clk.Now))
	for range 3 {
		clk.Add(7 * time.Hour)
		if _, err := f.e.TicketFor(apiCtx, apiApp); err != nil {
			t.Fatal(err)
		}
	}
	f.e.mu.Lock()
	kept := len(f.e.storeOfLocked(apiCtx).sys.tickets)
	f.e.mu.Unlock()
	if kept != 1 || f.e.LiveTickets(apiCtx) != 1 {
		t.Fatalf("%d tickets kept, %d live; want 1", kept, f.e.LiveTickets(apiCtx))
	}
}
