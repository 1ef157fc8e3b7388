package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// A receiver for every tenant, with the tenant in the URL and its secret
// derived from one master key: nothing to store per tenant.
func ExampleNew() {
	masterKey := []byte("load 32 random bytes from your secret store")
	h, err := webhook.New(webhook.Config{
		Secret: webhook.DerivedSecrets(masterKey, func(r *http.Request) string { return r.PathValue("tenant") }, nil),
		Handle: func(ctx context.Context, ev *webhook.Event) error {
			fmt.Println(ev.ContextIdentifier, ev.Event, ev.PrimaryKey)
			return nil // only now does SuperOffice get 200
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{tenant}", h)

	// What SuperOffice sends when company 6 of Cust12345 is created.
	body := []byte(`{"EventId":"9f1c","Event":"contact.created","Entity":"contact","PrimaryKey":6,"ContextIdentifier":"Cust12345"}`)
	secret := webhook.DerivedSecret(masterKey, "Cust12345") // saved as the webhook's Secret
	req := httptest.NewRequest("POST", "/webhooks/Cust12345", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-SuperOffice-Signature", webhook.Sign([]byte(secret), body))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// Cust12345 contact.created 6
	// 200
}

func ExampleVerify() {
	secret := []byte("the webhook's secret")
	body := []byte(`{"Event":"contact.created","PrimaryKey":6}`)
	sig := webhook.Sign(secret, body)

	fmt.Println(webhook.Verify(secret, body, sig))
	err := webhook.Verify(secret, []byte(`{"Event":"contact.created","PrimaryKey":7}`), sig)
	switch {
	case errors.Is(err, webhook.ErrBadSignature):
		fmt.Println("tampered")
	case errors.Is(err, webhook.ErrNoSignature), errors.Is(err, webhook.ErrMalformedSignature):
		fmt.Println("not signed properly")
	case errors.Is(err, webhook.ErrNoSecret):
		fmt.Println("configure a secret")
	}
	// Output:
	// <nil>
	// tampered
}

func ExampleDecodeValues() {
	ev, err := webhook.Parse([]byte(`{"Event":"contact.created","FieldValues":{"contact_id":"[I:6]","registered":"[DT:09/16/2025 14:22:14.0000000]"}}`))
	if err != nil {
		panic(err)
	}
	vals, err := webhook.DecodeValues(ev.FieldValues)
	if err != nil {
		panic(err)
	}
	fmt.Println(vals["contact_id"].Kind, vals["contact_id"].Int)
	fmt.Println(vals["registered"].Kind, vals["registered"].Time)
	// Output:
	// int 6
	// datetime 2025-09-16 14:22:14 +0000 UTC
}
