package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// The example of the documentation's test event (reference/test-event.md):
// its signature is over exactly these bytes, with a secret we do not
// know, so only the shape is checked there; the rest uses our own.
const testEventBody = `{
  "EventId": "4b5ce038-50f2-4796-bdb2-f96908cf31c2",
  "Timestamp": "2018-04-24T08:52:59.0005158Z",
  "Changes": [],
  "Event": "test",
  "PrimaryKey": 0,
  "Entity": "test",
  "ContextIdentifier": "Default",
  "ChangedByAssociateId": 316,
  "WebhookName": "Name you provided"
}`

func TestVerify(t *testing.T) {
	secret := []byte("s3cret-for-Cust12345")
	body := []byte(`{"EventId":"e1","Event":"contact.created"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	good := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	require.Equal(t, good, webhook.Sign(secret, body))

	flipped := []byte(good)
	flipped[3] ^= 1
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		sig    string
		want   error
	}{
		{"good", secret, body, good, nil},
		{"tampered body", secret, []byte(`{"EventId":"e1","Event":"contact.deleted"}`), good, webhook.ErrBadSignature},
		{"body re-serialized with a space", secret, []byte(`{"EventId": "e1","Event":"contact.created"}`), good, webhook.ErrBadSignature},
		{"tampered signature", secret, body, string(flipped), webhook.ErrBadSignature},
		{"another tenant's secret", []byte("s3cret-for-Cust99999"), body, good, webhook.ErrBadSignature},
		{"empty secret", nil, body, good, webhook.ErrNoSecret},
		{"empty secret, signed with empty key", []byte{}, body, webhook.Sign(nil, body), webhook.ErrNoSecret},
		{"no signature", secret, body, "", webhook.ErrNoSignature},
		{"not base64", secret, body, strings.Repeat("!", 44), webhook.ErrMalformedSignature},
		{"unpadded 44 chars", secret, body, strings.Repeat("A", 44), webhook.ErrMalformedSignature},
		{"hex instead of base64", secret, body, strings.Repeat("ab", 32), webhook.ErrMalformedSignature},
		{"truncated", secret, body, good[:40], webhook.ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.body, tc.sig)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), string(secret))
			assert.NotContains(t, err.Error(), good)
		})
	}
}
