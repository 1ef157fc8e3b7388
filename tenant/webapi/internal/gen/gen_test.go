package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

func load(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../../spec/spec.json")
	require.NoError(t, err)
	return s
}

// TestGeneratedFilesAreUpToDate runs the generator in memory: its output
// must equal the committed files, and a second run the first.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	s := load(t)
	a, err := Generate(s)
	require.NoError(t, err)
	b, err := Generate(load(t))
	require.NoError(t, err)
	require.Len(t, b, len(a), "the same files twice")
	for name, src := range a {
		assert.True(t, bytes.Equal(src, b[name]), "%s differs between two runs", name)
		assert.True(t, bytes.HasPrefix(src, []byte("// Code generated ")) && bytes.Contains(src[:200], []byte("DO NOT EDIT.")), "%s lacks the generated-code header", name)
		cur, err := os.ReadFile(filepath.Join("../..", name))
		if assert.NoError(t, err, name) {
			assert.True(t, bytes.Equal(cur, src), "%s is not what the generator writes: run go generate ./tenant/webapi/...", name)
		}
	}
	assert.Len(t, a, 63+5, "one file per service plus enums, types, api and two test files")
}

func TestTypeMapping(t *testing.T) {
	g := &gen{s: load(t), polys: map[string]*poly{"FieldInfoBase": {iface: "FieldInfo", holder: "AnyFieldInfo"}}}
	for _, tc := range []struct {
		name string
		tr   spec.TypeRef
		ctx  string
		want string
	}{
		{"Name", spec.TypeRef{Prim: "string"}, "field", "string"},
		{"Duration", spec.TypeRef{Prim: "string", Format: "timespan"}, "field", "TimeSpan"},
		{"ContactId", spec.TypeRef{Prim: "number"}, "field", "int64"},
		{"Amount", spec.TypeRef{Prim: "number"}, "field", "float64"},
		{"Ids", spec.TypeRef{Array: &spec.TypeRef{Prim: "number"}}, "param", "[]int64"},
		{"Done", spec.TypeRef{Prim: "bool"}, "field", "bool"},
		{"Created", spec.TypeRef{Prim: "datetime"}, "field", "Time"},
		{"BirthDate", spec.TypeRef{Prim: "datetime", Format: "date"}, "field", "Time"},
		{"Value", spec.TypeRef{Prim: "any"}, "field", "any"},
		{"Image", spec.TypeRef{Prim: "binary"}, "param", "[]byte"},
		{"Mask", spec.TypeRef{Enum: "ETableRight"}, "field", "ETableRight"},
		{"Address", spec.TypeRef{Ref: "Address"}, "field", "*Address"},
		{"Emails", spec.TypeRef{Array: &spec.TypeRef{Ref: "EntityElement"}}, "field", "[]EntityElement"},
		{"FieldProperties", spec.TypeRef{Map: &spec.TypeRef{Ref: "FieldProperty"}}, "field", "map[string]FieldProperty"},
		{"Patch", spec.TypeRef{Array: &spec.TypeRef{Ref: "WebApiPatchOperation"}}, "param", "[]WebAPIPatchOperation"},
		{"Info", spec.TypeRef{Ref: "FieldInfoBase"}, "result", "FieldInfo"},
		{"Infos", spec.TypeRef{Array: &spec.TypeRef{Ref: "FieldInfoBase"}}, "result", "[]FieldInfo"},
		{"Infos", spec.TypeRef{Array: &spec.TypeRef{Ref: "FieldInfoBase"}}, "field", "[]AnyFieldInfo"},
	} {
		assert.Equal(t, tc.want, g.goType(tc.name, &tc.tr, tc.ctx), "goType(%s %+v, %s)", tc.name, tc.tr, tc.ctx)
	}
	assert.Empty(t, g.errs)
}

func TestNameClashesFail(t *testing.T) {
	s, err := spec.Parse([]byte(`{"enums":[{"name":"Color","flags":false,"values":[{"name":"Red","value":"Red"}]}],
		"types":[{"name":"ColorRed","extends":null,"fields":[]},
		         {"name":"T","extends":null,"fields":[{"wire":"Url","type":{"prim":"string"}},{"wire":"URL","type":{"prim":"string"}}]}],
		"services":[]}`))
	require.NoError(t, err)
	_, err = Generate(s)
	assert.ErrorContains(t, err, "ColorRed")
	assert.ErrorContains(t, err, "field URL clashes")
}

func TestFileNames(t *testing.T) {
	for in, want := range map[string]string{
		"ContactAgent":   "agent_contact_gen.go",
		"CRMScriptAgent": "agent_crmscript_gen.go",
		"ContactRestApi": "rest_contact_gen.go",
	} {
		kind := "agent"
		if strings.HasSuffix(in, "RestApi") {
			kind = "rest"
		}
		assert.Equal(t, want, fileName(&spec.Service{Name: in, Kind: kind}), "fileName(%s)", in)
	}
}

// TestRequestStructs checks the request-struct rule on a small spec: an
// object body of two or more fields becomes a struct named after the body
// (with a number when a type already has the name), one of a single field
// stays a positional parameter, and the tags are the body's keys.
func TestRequestStructs(t *testing.T) {
	s, err := spec.Parse([]byte(`{"enums":[],
		"types":[{"name":"ContactMergeRequest","extends":null,"fields":[]}],
		"services":[{"name":"ContactAgent","kind":"agent","base":"v1/Agents/Contact/","methods":[
			{"name":"GetPersons","http":"POST","path":"GetPersons","query":[],
			 "body":{"kind":"object","name":"Contact_GetPersonsRequest","fields":[{"wire":"ContactId","type":{"prim":"number"}}]},"returns":null},
			{"name":"Merge","http":"POST","path":"Merge","query":[],
			 "body":{"kind":"object","name":"Contact_MergeRequest","fields":[
				{"wire":"SourceContactId","type":{"prim":"number"}},{"wire":"DestinationContactId","type":{"prim":"number"}}]},"returns":null},
			{"name":"Rename","http":"POST","path":"Rename","query":[],
			 "body":{"kind":"object","name":"Contact_RenameRequest","fields":[
				{"wire":"ContactId","type":{"prim":"number"}},{"wire":"Name","type":{"prim":"string"}}]},"returns":null}]}]}`))
	require.NoError(t, err)
	out, err := Generate(s)
	require.NoError(t, err)
	src := string(out["agent_contact_gen.go"])
	for _, want := range []string{
		"func (s ContactAgent) GetPersons(ctx context.Context, contactID int64) error",
		"type ContactMergeRequest2 struct",
		"SourceContactID int64 `json:\"SourceContactId\"`",
		"func (s ContactAgent) Merge(ctx context.Context, req ContactMergeRequest2) error",
		"type ContactRenameRequest struct",
		"func (s ContactAgent) Rename(ctx context.Context, req ContactRenameRequest) error",
	} {
		assert.Contains(t, src, want)
	}
	assert.NotContains(t, src, "ContactGetPersonsRequest", "a one-field body got a request struct")
	// The body's keys stay in the spec's order, not sorted by Go name.
	i, j := strings.Index(src, "SourceContactID int64"), strings.Index(src, "DestinationContactID int64")
	assert.True(t, i >= 0 && j > i, "request fields are in the body's order")

	_, err = spec.Parse([]byte(`{"enums":[],"types":[],"services":[{"name":"A","kind":"agent","base":"v1/Agents/A/","methods":[
		{"name":"M","http":"POST","path":"M","query":[],"body":{"kind":"object","fields":[
			{"wire":"A","type":{"prim":"number"}},{"wire":"B","type":{"prim":"number"}}]},"returns":null}]}]}`))
	assert.ErrorContains(t, err, "without a name", "an unnamed body of two fields")
}

// TestRequestNamesOfThisSpec backs the package guide's claim that no
// request struct of this spec needs a number: each is named after its body.
func TestRequestNamesOfThisSpec(t *testing.T) {
	s := load(t)
	out, err := Generate(s)
	require.NoError(t, err)
	n := 0
	for i := range s.Services {
		sv := &s.Services[i]
		src := out[fileName(sv)]
		for j := range sv.Methods {
			m := &sv.Methods[j]
			if !spec.HasRequest(m) {
				continue
			}
			n++
			name := spec.GoName(m.Body.Name)
			assert.Contains(t, string(src), "\ntype "+name+" struct {", "%s.%s", sv.Name, m.Name)
			assert.Contains(t, string(src), " "+spec.GoName(m.Name)+"(ctx context.Context, req "+name+")", "%s.%s takes a %s", sv.Name, m.Name, name)
		}
	}
	t.Logf("%d methods take a request struct", n)
}

// TestTagsKeepWhatWasRead checks the JSON tags on a small spec: lists,
// maps, binary, objects, enums and any are omitzero (an empty list read as
// [] is written back as [], a nil one left out: omitempty would drop both);
// numbers, strings, bools and dates are always sent. A flag enum writes
// itself (bits no member names as one integer).
func TestTagsKeepWhatWasRead(t *testing.T) {
	s, err := spec.Parse([]byte(`{"enums":[{"name":"Right","flags":true,"values":[{"name":"Read","value":"1"}]}],
		"types":[{"name":"Other","extends":null,"fields":[]},
		         {"name":"T","extends":null,"fields":[
			{"wire":"Emails","type":{"array":{"ref":"Other"}}},
			{"wire":"Extra","type":{"map":{"prim":"string"}}},
			{"wire":"Blob","type":{"prim":"binary"}},
			{"wire":"Thing","type":{"ref":"Other"}},
			{"wire":"Mask","type":{"enum":"Right"}},
			{"wire":"Value","type":{"prim":"any"}},
			{"wire":"Name","type":{"prim":"string"}},
			{"wire":"Count","type":{"prim":"number"}},
			{"wire":"Done","type":{"prim":"bool"}},
			{"wire":"When","type":{"prim":"datetime"}}]}],
		"services":[]}`))
	require.NoError(t, err)
	out, err := Generate(s)
	require.NoError(t, err)
	types := string(out["types_gen.go"])
	for _, want := range []string{
		"Emails []Other `json:\"Emails,omitzero\"`",
		"Extra map[string]string `json:\"Extra,omitzero\"`",
		"Blob []byte `json:\"Blob,omitzero\"`",
		"Thing *Other `json:\"Thing,omitzero\"`",
		"Mask Right `json:\"Mask,omitzero\"`",
		"Value any `json:\"Value,omitzero\"`",
		"Name string `json:\"Name\"`",
		"Count int64 `json:\"Count\"`",
		"Done bool `json:\"Done\"`",
		"When Time `json:\"When\"`",
	} {
		assert.Contains(t, strings.Join(strings.Fields(types), " "), want)
	}
	assert.NotContains(t, types, "omitempty")
	assert.Contains(t, string(out["enums_gen.go"]), "func (f Right) MarshalJSON() ([]byte, error) { return marshalFlags(f, rightBits) }")
}
