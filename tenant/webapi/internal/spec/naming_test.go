package spec

import (
	"strings"
	"testing"
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
		if got := GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
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
		if got := ParamName(in); got != want {
			t.Errorf("ParamName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsInteger(t *testing.T) {
	for name, want := range map[string]bool{
		"ContactId": true, "contactId": true, "id": true, "Ids": true, "ContactIds": true,
		"RowCount": true, "Count": true, "Amount": false, "Rank": false, "Probability": false,
		"Idx": false, "Counter": false, "Deleted": false, "CountryId": true, "Country": false,
	} {
		if got := IsInteger(name); got != want {
			t.Errorf("IsInteger(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParamsAreUniqueAndNotReserved(t *testing.T) {
	s, err := Load("../../spec/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, sv := range s.Services {
		for i := range sv.Methods {
			seen := map[string]bool{}
			for _, p := range s.Params(&sv.Methods[i]) {
				if seen[p.Go] || reserved[p.Go] || p.Go == "" {
					t.Errorf("%s.%s: parameter %q", sv.Name, sv.Methods[i].Name, p.Go)
				}
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
	if strings.Join(got, " ") != "typeArg urlArg urlArg2" {
		t.Errorf("params %v", got)
	}
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
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSamplerCoversEveryForm(t *testing.T) {
	s, err := Load("../../spec/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	smp := &Sampler{Spec: s}
	seen := map[string]bool{}
	for range 20 {
		v, _ := smp.Value("CreatedDate", &TypeRef{Prim: "datetime"})
		seen[v.(string)] = true
	}
	if len(seen) != len(DateForms) {
		t.Errorf("dates cover %d of %d forms", len(seen), len(DateForms))
	}
	subtypes := map[string]bool{}
	for range 40 {
		obj := smp.Object("FieldInfoBase", 0)
		subtypes[obj["FieldType"].(string)] = true
	}
	if len(subtypes) != len(s.TypeByName("FieldInfoBase").Discriminator.Map) {
		t.Errorf("FieldInfoBase samples cover %d subtypes", len(subtypes))
	}
	if v, _ := smp.Value("ContactId", &TypeRef{Prim: "number"}); v.(float64) != float64(int64(v.(float64))) {
		t.Errorf("id sample %v is not whole", v)
	}
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
		if got := ReadOnly(name); got != want {
			t.Errorf("ReadOnly(%s) = %v, want %v", name, got, want)
		}
	}
}
