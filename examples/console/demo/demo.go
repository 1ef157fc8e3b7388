// Package demo sets up the whole scenario without a browser, for the
// console's -demo flag, its tests and its benchmarks: an emulator of
// SuperOffice Online, the partner app registered with system-user rights,
// and any number of tenants that have approved the app and are stored in
// the partner's database, due at once. Steps 1 to 6 of the scenario, done
// the short way.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// FirstTenant is the number of the first demo tenant: tenant i is
// Cust<FirstTenant+i>.
const FirstTenant = 10000

// ContextID is the context identifier of demo tenant i.
func ContextID(i int) string { return fmt.Sprintf("Cust%d", FirstTenant+i) }

// App is the partner app the demo registers.
type App struct {
	ClientID     string
	ClientSecret string // a secret: never log it
	PrivateKey   *rsa.PrivateKey
}

// NewApp makes an app with a fresh key pair of bits (0: 2048) and a
// random client secret.
func NewApp(clientID string, bits int) (*App, error) {
	if bits == 0 {
		bits = 2048
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("demo: app key: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("demo: client secret: %w", err)
	}
	return &App{ClientID: clientID, ClientSecret: base64.RawURLEncoding.EncodeToString(b), PrivateKey: key}, nil
}

// Register registers the app with the emulator, with system-user rights.
func (a *App) Register(em *superidtest.Emulator) error {
	return em.RegisterApp(superidtest.App{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		Name:         "Demo",
		RedirectURLs: []string{"http://localhost:8080/callback"},
		SystemUser:   true,
		PublicKey:    &a.PrivateKey.PublicKey,
	})
}

// AddTenants adds tenants from to from+n-1 to the emulator, has each
// approve the app, and stores each approval as the web app would: due at
// once. It works through them one at a time, so that n can be large.
func AddTenants(ctx context.Context, em *superidtest.Emulator, st *store.Store, app *App, from, n int, approvedAt time.Time) error {
	for i := from; i < from+n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := ContextID(i)
		if err := em.AddTenant(superidtest.Tenant{ContextIdentifier: id, Serial: fmt.Sprint(1_000_000_000 + i)}); err != nil {
			return err
		}
		tok, err := em.Approve(id, app.ClientID)
		if err != nil {
			return err
		}
		if err := st.UpsertTenant(ctx, store.Approval{
			ContextIdentifier: id,
			SystemUserToken:   tok,
			Serial:            fmt.Sprint(1_000_000_000 + i),
			WebAPIURL:         em.WebAPIURL(id),
			CompanyName:       id + " AS",
			ApprovedBy:        "admin@" + id + ".example",
			ApprovedAt:        approvedAt,
		}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}
