package webhook_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// FuzzParse: no input panics, and what Parse accepts has an Event name
// and field values that are JSON.
func FuzzParse(f *testing.F) {
	for _, s := range []string{testEventBody, changedEvent, `{"Event":"x","Extra":1}`, `{"Event":"x","FieldValues":null}`,
		`{"Event":"x"} `, `{"Event":"x"}x`, `{}`, `null`, `[`, `{"Timestamp":"2025-01-01T00:00:00"}`, "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := webhook.Parse(body)
		if err != nil {
			require.ErrorIs(t, err, webhook.ErrMalformedEvent)
			return
		}
		assert.NotEmpty(t, ev.Event)
		for _, raw := range []json.RawMessage{ev.FieldValues, ev.Values} {
			if len(raw) > 0 {
				assert.True(t, json.Valid(raw))
				_, _ = webhook.DecodeValues(raw)
			}
		}
	})
}

// FuzzParseEncoded: no encoded value panics the decoder, and what it
// accepts keeps its text.
func FuzzParseEncoded(f *testing.F) {
	for _, s := range []string{"[I:6]", "[DT:09/16/2025 14:22:14.0000000]", "[A:3,4,5]", "[A:]", "[D:09.11.2017]",
		"[D:1234.5]", "[F:1e400]", "[T:14:52]", "[TS:500]", "[B:X98]", "[M:-1.5]", "[:]", "[I:]", "[]", "[A:,]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := webhook.ParseEncoded(s)
		if err == nil {
			assert.Equal(t, s[len(s)-len(v.Text)-1:len(s)-1], v.Text)
		}
		raw, _ := json.Marshal(s)
		_, err = webhook.DecodeValue(raw)
		assert.NoError(t, err, "every JSON string decodes")
	})
}
