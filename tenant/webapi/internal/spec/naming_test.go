package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"ContactId":               "ContactID",
		"ContactIds":              "ContactIDs",
		"Id":                      "ID",
		"id":                      "ID",
		"Url":                     "URL",
		"Urls":                    "URLs",
		"GetContactUrl":           "GetContactURL",
		"HTMLBody":                "HTMLBody",
		"HtmlBody":                "HTMLBody",
		"ERPQuoteKey":             "ERPQuoteKey",
		"EMailConnectionInfo":     "EMailConnectionInfo",
		"WebApiPatchOperation":    "WebAPIPatchOperation",
		"GetUIDFromAppointmentId": "GetUIDFromAppointmentID",
		"UIHints":                 "UIHints",
		"op":                      "Op",
		"Period1":                 "Period1",
		"ContactRestApi":          "ContactRestAPI",
		"Idx":                     "Idx",
		"IdleTime":                "IdleTime",
		"Sms":                     "Sms",
		"GetNextFormDesignCss":    "GetNextFormDesignCSS",
		"snake_case_name":         "SnakeCaseName",
		"2fa":                     "X2fa",
	} {
		assert.Equal(t, want, GoName(in), "GoName(%q)", in)
	}
}

func TestParamName(t *testing.T) {
	for in, want := range map[string]string{
		"contactEntityId": "contactEntityID",
		"ContactEntityId": "contactEntityID",
		"Ids":             "ids",
		"URL":             "url",
		"Url":             "url",
		"HTMLBody":        "htmlBody",
		"id":              "id",
	} {
		assert.Equal(t, want, ParamName(in), "ParamName(%q)", in)
	}
}

func TestIsInteger(t *testing.T) {
	for name, want := range map[string]bool{
		"ContactId": true, "contactId": true, "id": true, "Ids": true, "ContactIds": true,
		"RowCount": true, "Count": true, "Amount": false, "Rank": false, "Probability": false,
		"Idx": false, "Counter": false, "Deleted": false, "CountryId": true, "Country": false,
	} {
		assert.Equal(t, want, IsInteger(name), "IsInteger(%q)", name)
	}
}

func TestParamsAreUniqueAndNotReserved(t *testing.T) {
	s, err := Load("../../spec/spec.json")
	require.NoError(t, err)
	for _, sv := range s.Services {
		for i := range sv.Methods {
			seen := map[string]bool{}
			for _, p := range s.Params(&sv.Methods[i]) {
				assert.NotEmpty(t, p.Go, "%s.%s: a parameter without a name", sv.Name, sv.Methods[i].Name)
				assert.False(t, seen[p.Go], "%s.%s: parameter %q twice", sv.Name, sv.Methods[i].Name, p.Go)
				assert.False(t, reserved[p.Go], "%s.%s: parameter %q is reserved", sv.Name, sv.Methods[i].Name, p.Go)
				seen[p.Go] = true
			}
		}
	}
	m := &Method{Body: &Body{Kind: "object", Fields: []Field{
		{Wire: "Type", Type: TypeRef{Prim: "string"}},
		{Wire: "url", Type: TypeRef{Prim: "string"}},
		{Wire: "Url", Type: TypeRef{Prim: "string"}},
	}}}
	var got []string
	for _, p := range s.Params(m) {
		got = append(got, p.Go)
	}
	assert.Equal(t, []string{"typeArg", "urlArg", "urlArg2"}, got, "params")
}

func TestParseRejectsWhatTheGeneratorCannotHandle(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown ref":     `{"types":[{"name":"A","fields":[{"wire":"B","type":{"ref":"Nope"}}]}]}`,
		"unknown prim":    `{"types":[{"name":"A","fields":[{"wire":"B","type":{"prim":"decimal"}}]}]}`,
		"string query":    `{"services":[{"name":"S","kind":"agent","base":"v1/","methods":[{"name":"M","http":"POST","path":"M","query":[{"wire":"q","type":{"prim":"string"}}]}]}]}`,
		"bad body":        `{"services":[{"name":"S","kind":"agent","base":"v1/","methods":[{"name":"M","http":"POST","path":"M","query":[],"body":{"kind":"form"}}]}]}`,
		"missing extends": `{"types":[{"name":"A","extends":"B","fields":[]}]}`,
		"not json":        `{`,
	} {
		_, err := Parse([]byte(doc))
		assert.Error(t, err, name)
	}
}

func TestSamplerCoversEveryForm(t *testing.T) {
	s, err := Load("../../spec/spec.json")
	require.NoError(t, err)
	smp := &Sampler{Spec: s}
	seen := map[string]bool{}
	for range 20 {
		v, _ := smp.Value("CreatedDate", &TypeRef{Prim: "datetime"})
		seen[v.(string)] = true
	}
	assert.Len(t, seen, len(DateForms), "the dates do not cover every form")
	subtypes := map[string]bool{}
	for range 40 {
		obj := smp.Object("FieldInfoBase", 0)
		subtypes[obj["FieldType"].(string)] = true
	}
	assert.Len(t, subtypes, len(s.TypeByName("FieldInfoBase").Discriminator.Map), "the FieldInfoBase samples do not cover every subtype")
	v, _ := smp.Value("ContactId", &TypeRef{Prim: "number"})
	require.IsType(t, float64(0), v)
	assert.Equal(t, float64(int64(v.(float64))), v, "the id sample is not whole")
}

// TestReadOnly checks the names that read like a question but write, and
// the reads next to them that must stay retried.
func TestReadOnly(t *testing.T) {
	for name, want := range map[string]bool{
		"GetContactEntity":                 true,
		"GetOrRegisterAccessGatewayInfo":   false,
		"GetOrCreateSomething":             false,
		"FindOrAddSomething":               false,
		"GetChatbotResponse":               false,
		"GetTempTileSelection":             false,
		"GetSecondaryTempTileSelection":    false,
		"GetChatbotTurns":                  true,
		"GetTempFile":                      true,
		"GetEMailFromTemp":                 true,
		"FindContactOrPersonByEmailName":   true,
		"FindTicketsByTitleOrId":           true,
		"CanCreateAppointmentInAllDiaries": true,
		"GetRegisteredDevices":             true,
	} {
		assert.Equal(t, want, ReadOnly(name), "ReadOnly(%s)", name)
	}
}
