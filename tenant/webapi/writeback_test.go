package webapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

// emptyJSON is what the server sends for an empty value of a field that
// omitzero leaves out when nil: [] for a list, {} for a map, "" for
// binary content; "" when the field is not one of those.
func emptyJSON(tr *spec.TypeRef) string {
	switch {
	case tr.Array != nil:
		return `[]`
	case tr.Map != nil:
		return `{}`
	case tr.Prim == "binary":
		return `""`
	}
	return ""
}

// checkEmptyListsWriteBack decodes an object holding every list, map and
// binary field of fields as empty, as the server sends them, into mk(), and
// checks that encoding writes each back empty; and that a value where none
// was set leaves them all out. It returns how many fields it checked.
func checkEmptyListsWriteBack(t *testing.T, name string, fields []spec.Field, mk func() any) int {
	t.Helper()
	in := map[string]json.RawMessage{}
	for _, f := range fields {
		if e := emptyJSON(&f.Type); e != "" {
			in[f.Wire] = json.RawMessage(e)
		}
	}
	if len(in) == 0 {
		return 0
	}
	v := mk()
	require.NoError(t, json.Unmarshal(mustJSON(t, in), v), name)
	var out map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(mustJSON(t, v), &out), name)
	for wire, want := range in {
		if assert.Contains(t, out, wire, "%s: %s read as %s is not written back", name, wire, want) {
			assert.Equal(t, string(want), string(out[wire]), "%s.%s", name, wire)
		}
	}

	var unset map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(mustJSON(t, mk()), &unset), name)
	for wire := range in {
		assert.NotContains(t, unset, wire, "%s: %s never set is sent", name, wire)
	}
	return len(in)
}

// TestEveryCarrierWritesBackEmptyLists checks every generated type and
// request struct: a list (map, binary) read as [] ({}, "") is written back
// so, and one never set is left out (PROTOCOL 12: clearing a person's last
// email depends on it).
func TestEveryCarrierWritesBackEmptyLists(t *testing.T) {
	s := loadSpec(t)
	types, fields := 0, 0
	for i := range s.Types {
		ty := &s.Types[i]
		mk := typeFactories[ty.Name]
		require.NotNil(t, mk, "type %s has no Go type: regenerate", ty.Name)
		if n := checkEmptyListsWriteBack(t, ty.Name, s.AllFields(ty), mk); n > 0 {
			types++
			fields += n
		}
	}
	for i := range s.Services {
		for j := range s.Services[i].Methods {
			m := &s.Services[i].Methods[j]
			if !spec.HasRequest(m) {
				continue
			}
			mk := requestFactories[m.Body.Name]
			require.NotNil(t, mk, "%s has no request struct: regenerate", m.Body.Name)
			if n := checkEmptyListsWriteBack(t, m.Body.Name, m.Body.Fields, mk); n > 0 {
				types++
				fields += n
			}
		}
	}
	assert.Greater(t, fields, 500, "the spec has hundreds of list fields")
	t.Logf("%d list, map and binary fields in %d types and request structs", fields, types)

	// The case that needs it: a person whose last email is removed.
	var p PersonEntity
	require.NoError(t, json.Unmarshal([]byte(`{"PersonId":7,"Emails":[{"Value":"a@example.com"}]}`), &p))
	p.Emails = p.Emails[:0]
	var out map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(mustJSON(t, &p), &out))
	assert.JSONEq(t, `[]`, string(out["Emails"]))
}

// TestBinaryMethodsDecodeABase64JSONString: some binary methods answer a
// JSON string of base64 although application/octet-stream was asked for
// (PROTOCOL 12); both forms give the content.
func TestBinaryMethodsDecodeABase64JSONString(t *testing.T) {
	api, rec := setup(t)
	ctx := context.Background()
	content := []byte{0xfb, 0xff, 0, 1, 2, '"'}
	for _, tc := range []struct {
		name, ctype, body string
		want              []byte
	}{
		{"JSON base64", "application/json; charset=utf-8", `"+/8AAQIi"`, content},
		{"JSON base64 with escapes and a newline", "application/json", "\"\\u002B/8AAQIi\"\r\n", content},
		{"raw", "application/octet-stream", string(content), content},
		{"raw text that starts and ends with a quote", "application/octet-stream", `"a","b"`, []byte(`"a","b"`)},
		{"raw text that starts with a quote", "text/csv", "\"a\",b\n", []byte("\"a\",b\n")},
		{"empty", "application/octet-stream", ``, []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.answer(http.StatusOK, tc.ctype, []byte(tc.body))
			got, err := api.BLOBAgent.GetBlobStream(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)

			rec.answer(http.StatusOK, tc.ctype, []byte(tc.body))
			rc, err := api.BLOBAgent.GetBlobStreamReader(ctx, 1)
			require.NoError(t, err)
			got, err = io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
			assert.Equal(t, tc.want, got, "Reader")
		})
	}
}
