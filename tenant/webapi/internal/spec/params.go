package spec

import "fmt"

// Param is one parameter of a method, in the order the generated Go method
// takes them: path parameters, the query parameter, then the body (one
// parameter for a value body, one per field for an object body). When
// HasRequest holds, the object body's fields are not Go parameters but the
// fields of the method's request struct, in the same order.
type Param struct {
	Wire string  // the name on the wire (path placeholder, query key, body key)
	Type TypeRef // its type
	In   string  // "path", "query", "value" or "object"
	Go   string  // the Go parameter name
}

// reserved are names a generated method already uses for something else
// (receiver, locals, imported packages) or Go keywords.
var reserved = map[string]bool{
	"ctx": true, "s": true, "in": true, "req": true, "out": true, "err": true, "v": true,
	"url": true, "http": true, "io": true, "json": true, "time": true, "strconv": true,
	"context": true, "tenant": true,
	"break": true, "case": true, "chan": true, "const": true, "continue": true, "default": true,
	"defer": true, "else": true, "fallthrough": true, "for": true, "func": true, "go": true,
	"goto": true, "if": true, "import": true, "interface": true, "map": true, "package": true,
	"range": true, "return": true, "select": true, "struct": true, "switch": true, "type": true,
	"var": true, "any": true, "string": true, "bool": true, "error": true, "nil": true,
	"true": true, "false": true, "len": true, "new": true, "make": true,
}

// Params lists a method's parameters. Go names follow ParamName; a name
// that is reserved gets "Arg" appended, and a repeated one its position.
func (s *Spec) Params(m *Method) []Param {
	var ps []Param
	for _, p := range m.PathParams {
		ps = append(ps, Param{Wire: p.Wire, Type: p.Type, In: "path"})
	}
	for _, p := range m.Query {
		ps = append(ps, Param{Wire: p.Wire, Type: p.Type, In: "query"})
	}
	if b := m.Body; b != nil {
		switch b.Kind {
		case "value":
			ps = append(ps, Param{Wire: valueName(b.Type), Type: *b.Type, In: "value"})
		case "object":
			for _, f := range b.Fields {
				ps = append(ps, Param{Wire: f.Wire, Type: f.Type, In: "object"})
			}
		}
	}
	seen := map[string]bool{}
	for i := range ps {
		n := ParamName(ps[i].Wire)
		if reserved[n] {
			n += "Arg"
		}
		for base, k := n, 2; seen[n]; k++ {
			n = fmt.Sprintf("%s%d", base, k)
		}
		seen[n] = true
		ps[i].Go = n
	}
	return ps
}

// valueName names a bare-value body: "ids" for an id array, otherwise
// after its type ("contactEntity", "webApiPatchOperations").
func valueName(tr *TypeRef) string {
	switch {
	case tr.Ref != "":
		return tr.Ref
	case tr.Array != nil && tr.Array.Ref != "":
		return tr.Array.Ref + "s"
	case tr.Array != nil && tr.Array.Prim == "number":
		return "Ids"
	case tr.Array != nil:
		return "Values"
	}
	return "Value"
}

// HasRequest is the request-struct rule: a method whose object body has
// two or more fields takes them as one struct, named after the body
// (Contact_MergeRequest is ContactMergeRequest), whose fields are set by
// name, so that two ids or two bools cannot be passed the wrong way round.
// An object body of one field has no order to get wrong and stays one
// positional parameter.
func HasRequest(m *Method) bool {
	return m.Body != nil && m.Body.Kind == "object" && len(m.Body.Fields) >= 2
}
