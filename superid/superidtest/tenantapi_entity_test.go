package superidtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One handler serves both entities: each answers every REST verb alike,
// with its own name in paths, ids and messages.
func TestEntityRESTIsOneHandler(t *testing.T) {
	for _, k := range []struct {
		name, create, change string
	}{
		{"Contact", `{"Name":"Acme"}`, `{"Name":"Acme 2"}`},
		{"Person", `{"Firstname":"Una"}`, `{"Firstname":"Una 2"}`},
	} {
		t.Run(k.name, func(t *testing.T) {
			f := newAPIFixture(t)
			base := "/" + apiCtx + "/api/v1/" + k.name
			idKey := k.name + "Id"

			code, created := f.call(http.MethodPost, base, k.create)
			require.Equal(t, http.StatusOK, code, "%v", created)
			assert.Equal(t, float64(1), created[idKey])
			assert.Equal(t, float64(SystemUserAssociateID), created["CreatedBy"].(map[string]any)["AssociateId"])
			assert.Equal(t, float64(0), created["UpdatedBy"].(map[string]any)["AssociateId"], "nobody changed it yet")

			code, got := f.call(http.MethodGet, base+"/1", "")
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, created, got)

			code, changed := f.call(http.MethodPut, base+"/1", k.change)
			require.Equal(t, http.StatusOK, code, "%v", changed)
			assert.Equal(t, float64(SystemUserAssociateID), changed["UpdatedBy"].(map[string]any)["AssociateId"])
			assert.Equal(t, created["CreatedDate"], changed["CreatedDate"])

			code, list := f.call(http.MethodGet, base, "")
			require.Equal(t, http.StatusOK, code)
			rows, _ := list["value"].([]any)
			require.Len(t, rows, 1)
			assert.Equal(t, strings.ToLower(k.name), rows[0].(map[string]any)["EntityName"])
			assert.Equal(t, "http://127.0.0.1:8081/"+apiCtx+"/api/v1/"+k.name+"/$metadata", list["odata.metadata"])

			for _, tc := range []struct {
				method, path, body string
				status             int
				msg                string
			}{
				{http.MethodPost, "", `{"` + idKey + `":9}`, 400, idKey + " must be 0 for a new " + strings.ToLower(k.name)},
				{http.MethodPost, "", `{`, 400, "invalid JSON body"},
				{http.MethodGet, "/99", "", 404, k.name + " 99 not found"},
				{http.MethodGet, "/abc", "", 404, k.name + " abc not found"},
				{http.MethodPut, "/99", k.change, 404, k.name + " 99 not found"},
				{http.MethodPut, "/1", `{"` + idKey + `":2}`, 400, idKey + " in the body does not match the URL"},
			} {
				code, body := f.call(tc.method, base+tc.path, tc.body)
				assert.Equal(t, tc.status, code, "%s %s", tc.method, tc.path)
				assert.Contains(t, body["ErrorMessage"], tc.msg, "%s %s", tc.method, tc.path)
			}

			code, _ = f.call(http.MethodDelete, base+"/1", "")
			assert.Equal(t, http.StatusNoContent, code)
			code, body := f.call(http.MethodDelete, base+"/1", "")
			assert.Equal(t, http.StatusNotFound, code)
			assert.Equal(t, k.name+" 1 not found", body["ErrorMessage"])
		})
	}
}
