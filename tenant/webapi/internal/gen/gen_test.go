package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

func load(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../../spec/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGeneratedFilesAreUpToDate runs the generator in memory: its output
// must equal the committed files, and a second run the first.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	s := load(t)
	a, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(load(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, src := range a {
		if !bytes.Equal(src, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
		if !bytes.HasPrefix(src, []byte("// Code generated ")) || !bytes.Contains(src[:200], []byte("DO NOT EDIT.")) {
			t.Errorf("%s lacks the generated-code header", name)
		}
		cur, err := os.ReadFile(filepath.Join("../..", name))
		if err != nil || !bytes.Equal(cur, src) {
			t.Errorf("%s is not what the generator writes (%v): run go generate ./tenant/webapi/...", name, err)
		}
	}
	if len(a) != 63+5 {
		t.Errorf("%d files, want one per service plus enums, types, api and two test files", len(a))
	}
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
		if got := g.goType(tc.name, &tc.tr, tc.ctx); got != tc.want {
			t.Errorf("goType(%s %+v, %s) = %s, want %s", tc.name, tc.tr, tc.ctx, got, tc.want)
		}
	}
	if len(g.errs) > 0 {
		t.Error(g.errs)
	}
}

func TestNameClashesFail(t *testing.T) {
	s, err := spec.Parse([]byte(`{"enums":[{"name":"Color","flags":false,"values":[{"name":"Red","value":"Red"}]}],
		"types":[{"name":"ColorRed","extends":null,"fields":[]},
		         {"name":"T","extends":null,"fields":[{"wire":"Url","type":{"prim":"string"}},{"wire":"URL","type":{"prim":"string"}}]}],
		"services":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Generate(s)
	if err == nil || !strings.Contains(err.Error(), "ColorRed") || !strings.Contains(err.Error(), "field URL clashes") {
		t.Errorf("err = %v", err)
	}
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
		if got := fileName(&spec.Service{Name: in, Kind: kind}); got != want {
			t.Errorf("fileName(%s) = %s", in, got)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	src := string(out["agent_contact_gen.go"])
	for _, want := range []string{
		"func (s ContactAgent) GetPersons(ctx context.Context, contactID int64) error",
		"type ContactMergeRequest2 struct",
		"SourceContactID int64 `json:\"SourceContactId\"`",
		"func (s ContactAgent) Merge(ctx context.Context, req ContactMergeRequest2) error",
		"type ContactRenameRequest struct",
		"func (s ContactAgent) Rename(ctx context.Context, req ContactRenameRequest) error",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(src, "ContactGetPersonsRequest") {
		t.Error("a one-field body got a request struct")
	}
	// The body's keys stay in the spec's order, not sorted by Go name.
	if i, j := strings.Index(src, "SourceContactID int64"), strings.Index(src, "DestinationContactID int64"); i < 0 || j < i {
		t.Error("request fields are not in the body's order")
	}

	if _, err := spec.Parse([]byte(`{"enums":[],"types":[],"services":[{"name":"A","kind":"agent","base":"v1/Agents/A/","methods":[
		{"name":"M","http":"POST","path":"M","query":[],"body":{"kind":"object","fields":[
			{"wire":"A","type":{"prim":"number"}},{"wire":"B","type":{"prim":"number"}}]},"returns":null}]}]}`)); err == nil || !strings.Contains(err.Error(), "without a name") {
		t.Errorf("an unnamed body of two fields: %v", err)
	}
}

// TestRequestNamesOfThisSpec backs the package guide's claim that no
// request struct of this spec needs a number: each is named after its body.
func TestRequestNamesOfThisSpec(t *testing.T) {
	s := load(t)
	out, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
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
			if !bytes.Contains(src, []byte("\ntype "+name+" struct {")) || !bytes.Contains(src, []byte(" "+spec.GoName(m.Name)+"(ctx context.Context, req "+name+")")) {
				t.Errorf("%s.%s does not take a %s", sv.Name, m.Name, name)
			}
		}
	}
	t.Logf("%d methods take a request struct", n)
}
