package webhook_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// changedEvent is the documentation's contact.changed example
// (notification.md), whose FieldValues are plain JSON.
const changedEvent = `{
    "EventId":"88f91933-edce-4c1a-8ded-ade8e2f72434",
    "Timestamp":"2025-05-14T10:48:07.8912039Z",
    "Changes":["contact_id","updated_associate_id","soundEx","updated","name"],
    "Event":"contact.changed",
    "PrimaryKey":18,
    "Entity":"contact",
    "ContextIdentifier":"Cust54321",
    "ChangedByAssociateId":5,
    "WebhookName":"Tonys Contact Handler",
    "FieldValues": {
        "activeInterests": 0, "associate_id": 12, "business_idx": 2, "category_idx": 4,
        "country_id": 826, "deleted": 0, "DeletedDate": "0001-01-01T00:00:00",
        "registered": "2020-02-16T17:50:17", "registered_associate_id": 5, "source": 0,
        "updated": "2025-05-14T10:48:07.8912039+02:00", "userdef2_id": 0, "userdef_id": 22
    }
}`

func TestParseDocumentedEvents(t *testing.T) {
	ev, err := webhook.Parse([]byte(changedEvent))
	require.NoError(t, err)
	assert.Equal(t, "88f91933-edce-4c1a-8ded-ade8e2f72434", ev.EventID)
	assert.Equal(t, time.Date(2025, 5, 14, 10, 48, 7, 891203900, time.UTC), ev.Timestamp)
	assert.Equal(t, []string{"contact_id", "updated_associate_id", "soundEx", "updated", "name"}, ev.Changes)
	assert.Equal(t, "contact.changed", ev.Event)
	assert.Equal(t, int64(18), ev.PrimaryKey)
	assert.Equal(t, "contact", ev.Entity)
	assert.Equal(t, "Cust54321", ev.ContextIdentifier)
	assert.Equal(t, int64(5), ev.ChangedByAssociateID)
	assert.Equal(t, "Tonys Contact Handler", ev.WebhookName)
	assert.False(t, ev.IsTest())
	assert.Nil(t, ev.Extra())
	assert.Empty(t, ev.Values)

	vals, err := webhook.DecodeValues(ev.FieldValues)
	require.NoError(t, err)
	assert.Equal(t, webhook.KindInt, vals["country_id"].Kind)
	assert.Equal(t, int64(826), vals["country_id"].Int)
	assert.Equal(t, webhook.KindDateTime, vals["registered"].Kind)
	assert.Equal(t, time.Date(2020, 2, 16, 17, 50, 17, 0, time.UTC), vals["registered"].Time)
	assert.True(t, vals["updated"].Time.Equal(time.Date(2025, 5, 14, 8, 48, 7, 891203900, time.UTC)))

	test, err := webhook.Parse([]byte(testEventBody))
	require.NoError(t, err)
	assert.True(t, test.IsTest())
	assert.Equal(t, "Default", test.ContextIdentifier)
	assert.Equal(t, int64(316), test.ChangedByAssociateID)
}

func TestParseEncodedAndDeletedValues(t *testing.T) {
	created := `{"EventId":"a","Timestamp":"2025-09-16T14:22:14.1234567Z","Event":"contact.created","Entity":"contact","PrimaryKey":6,
		"FieldValues":{"contact_id":"[I:6]","registered":"[DT:09/16/2025 14:22:14.0000000]","name":"Acme","interests":"[A:3,4,5]"}}`
	ev, err := webhook.Parse([]byte(created))
	require.NoError(t, err)
	vals, err := webhook.DecodeValues(ev.FieldValues)
	require.NoError(t, err)
	assert.Equal(t, webhook.Value{Kind: webhook.KindInt, Text: "6", Int: 6, Float: 6, Raw: json.RawMessage(`"[I:6]"`)}, vals["contact_id"])
	assert.Equal(t, time.Date(2025, 9, 16, 14, 22, 14, 0, time.UTC), vals["registered"].Time)
	assert.Equal(t, webhook.KindString, vals["name"].Kind)
	assert.Equal(t, "Acme", vals["name"].Text)
	assert.Equal(t, []int64{3, 4, 5}, vals["interests"].Ints)

	deleted := `{"EventId":"b","Event":"contact.deleted","Entity":"contact","PrimaryKey":3,
		"FieldValues":{"contact_id":3},"Values":{"contact_id":3,"registered":"2025-09-12T14:33:37"}}`
	ev, err = webhook.Parse([]byte(deleted))
	require.NoError(t, err)
	vals, err = webhook.DecodeValues(ev.Values)
	require.NoError(t, err)
	assert.Equal(t, int64(3), vals["contact_id"].Int)
	assert.Equal(t, webhook.KindDateTime, vals["registered"].Kind)
	assert.Equal(t, time.Date(2025, 9, 12, 14, 33, 37, 0, time.UTC), vals["registered"].Time)
}

func TestParseKeepsUnknownMembersAndNames(t *testing.T) {
	body := `{"EventId":"c","Event":"y_equipment.created","Entity":"y_equipment","PrimaryKey":1,
		"MyProperty":"from the hook's Properties","Nested":{"a":[1,2]},"eventid":"c"}`
	ev, err := webhook.Parse([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "y_equipment.created", ev.Event)
	assert.Equal(t, map[string]json.RawMessage{
		"MyProperty": json.RawMessage(`"from the hook's Properties"`),
		"Nested":     json.RawMessage(`{"a":[1,2]}`),
	}, ev.Extra())

	ev, err = webhook.Parse([]byte(`{"Event":"webhook7.stopped","Timestamp":"2025-01-02T03:04:05"}`))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), ev.Timestamp)
}

func TestParseRejects(t *testing.T) {
	for name, body := range map[string]string{
		"empty":             ``,
		"not JSON":          `<xml/>`,
		"null":              `null`,
		"array":             `[{"Event":"contact.created"}]`,
		"truncated":         `{"EventId":"a","Event":"contact.cre`,
		"trailing data":     `{"Event":"contact.created"} {"Event":"x"}`,
		"no Event":          `{"EventId":"a"}`,
		"PrimaryKey string": `{"Event":"contact.created","PrimaryKey":"six"}`,
		"bad Timestamp":     `{"Event":"contact.created","Timestamp":"yesterday"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhook.Parse([]byte(body))
			require.ErrorIs(t, err, webhook.ErrMalformedEvent)
		})
	}
}

func TestParseEncoded(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		in   string
		kind webhook.Kind
		chk  func(t *testing.T, v webhook.Value)
	}{
		{"[I:6]", webhook.KindInt, func(t *testing.T, v webhook.Value) { assert.Equal(t, int64(6), v.Int) }},
		{"[I:-12]", webhook.KindInt, func(t *testing.T, v webhook.Value) { assert.Equal(t, int64(-12), v.Int) }},
		{"[F:123.4]", webhook.KindFloat, func(t *testing.T, v webhook.Value) { assert.InDelta(t, 123.4, v.Float, 1e-9) }},
		{"[D:1234.5]", webhook.KindFloat, func(t *testing.T, v webhook.Value) { assert.InDelta(t, 1234.5, v.Float, 1e-9) }},
		{"[M:123.45]", webhook.KindMoney, func(t *testing.T, v webhook.Value) { assert.InDelta(t, 123.45, v.Float, 1e-9) }},
		{"[D:09.11.2017]", webhook.KindDate, func(t *testing.T, v webhook.Value) { assert.Equal(t, utc(2017, 11, 9, 0, 0, 0), v.Time) }},
		{"[D:11/09/2017]", webhook.KindDate, func(t *testing.T, v webhook.Value) { assert.Equal(t, utc(2017, 11, 9, 0, 0, 0), v.Time) }},
		{"[DT:11/09/2017 14:53:18]", webhook.KindDateTime, func(t *testing.T, v webhook.Value) { assert.Equal(t, utc(2017, 11, 9, 14, 53, 18), v.Time) }},
		{"[DT:09/16/2025 14:22:14.0000000]", webhook.KindDateTime, func(t *testing.T, v webhook.Value) { assert.Equal(t, utc(2025, 9, 16, 14, 22, 14), v.Time) }},
		{"[T:14:52]", webhook.KindTime, func(t *testing.T, v webhook.Value) {
			assert.Equal(t, 14, v.Time.Hour())
			assert.Equal(t, 52, v.Time.Minute())
		}},
		{"[TS:500]", webhook.KindTimeSpan, func(t *testing.T, v webhook.Value) { assert.Equal(t, int64(500), v.Int) }},
		{"[A:3,4,5]", webhook.KindIntArray, func(t *testing.T, v webhook.Value) { assert.Equal(t, []int64{3, 4, 5}, v.Ints) }},
		{"[A:]", webhook.KindIntArray, func(t *testing.T, v webhook.Value) { assert.Equal(t, []int64{}, v.Ints) }},
		{"[B:X98]", webhook.KindBinary, func(t *testing.T, v webhook.Value) { assert.Equal(t, "X98", v.Text) }},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, err := webhook.ParseEncoded(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.kind, v.Kind, v.Kind.String())
			tc.chk(t, v)
		})
	}
	for _, bad := range []string{"", "I:6", "[I:six]", "[Q:1]", "[I6]", "[DT:tomorrow]", "[A:1,x]", "[T:25:99]"} {
		_, err := webhook.ParseEncoded(bad)
		assert.Error(t, err, bad)
	}
	// A string that only looks encoded stays a string.
	v, err := webhook.DecodeValue(json.RawMessage(`"[I:am a name]"`))
	require.NoError(t, err)
	assert.Equal(t, webhook.Value{Kind: webhook.KindString, Text: "[I:am a name]", Raw: json.RawMessage(`"[I:am a name]"`)}, v)
}

func TestDecodeValuePlainJSON(t *testing.T) {
	for in, kind := range map[string]webhook.Kind{
		`null`: webhook.KindNull, `true`: webhook.KindBool, `"x"`: webhook.KindString, `7`: webhook.KindInt,
		`1.5`: webhook.KindFloat, `[1,2]`: webhook.KindIntArray, `["a"]`: webhook.KindJSON, `{"a":1}`: webhook.KindJSON,
	} {
		v, err := webhook.DecodeValue(json.RawMessage(in))
		require.NoError(t, err, in)
		assert.Equal(t, kind, v.Kind, in)
	}
	for _, bad := range []string{``, `nul`, `{`, `[1,`, `1e999`, `"unterminated`} {
		_, err := webhook.DecodeValue(json.RawMessage(bad))
		assert.Error(t, err, bad)
	}
	_, err := webhook.DecodeValues(json.RawMessage(`[1]`))
	assert.Error(t, err)
	m, err := webhook.DecodeValues(nil)
	require.NoError(t, err)
	assert.Empty(t, m)
}
