// Package spec reads spec.json, the description of the tenant web API that
// the webapi generator turns into Go, and holds the rules shared by the
// generator and the generated tests: the naming rule, the numeric rule, the
// read-only rule and the sample values.
package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Spec is the whole of spec.json.
type Spec struct {
	Source   Source    `json:"source"`
	Enums    []Enum    `json:"enums"`
	Types    []Type    `json:"types"`
	Services []Service `json:"services"`

	enums map[string]*Enum
	types map[string]*Type
}

// Source names the package the spec was extracted from.
type Source struct {
	Package string `json:"package"`
	Version string `json:"version"`
	License string `json:"license"`
}

// Enum is one enum; Flags marks bit-flag enums.
type Enum struct {
	Name   string      `json:"name"`
	Flags  bool        `json:"flags"`
	Values []EnumValue `json:"values"`
}

// EnumValue is one member. Value is the member name for string enums and
// the bit value for flag enums.
type EnumValue struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
	Code  *int64          `json:"code,omitempty"`
}

// Bits is the bit value of a flag enum member.
func (v EnumValue) Bits() uint64 {
	var n uint64
	_ = json.Unmarshal(v.Value, &n)
	return n
}

// Type is one carrier type.
type Type struct {
	Name          string         `json:"name"`
	Extends       string         `json:"extends"`
	Fields        []Field        `json:"fields"`
	Discriminator *Discriminator `json:"discriminator,omitempty"`
}

// Field is a field of a type or of an object body.
type Field struct {
	Wire     string  `json:"wire"`
	Type     TypeRef `json:"type"`
	Optional bool    `json:"optional"`
}

// Discriminator tells the subtypes of a polymorphic base apart.
type Discriminator struct {
	Wire string `json:"wire"`
	Map  []struct {
		Value string `json:"value"`
		Type  string `json:"type"`
	} `json:"map"`
}

// TypeRef is the type of a field, parameter, body or result. Exactly one of
// Prim, Ref, Enum, Array and Map is set.
type TypeRef struct {
	Prim   string   `json:"prim,omitempty"`
	Format string   `json:"format,omitempty"`
	Ref    string   `json:"ref,omitempty"`
	Enum   string   `json:"enum,omitempty"`
	Array  *TypeRef `json:"array,omitempty"`
	Map    *TypeRef `json:"map,omitempty"`
}

// Service is one agent or REST service.
type Service struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // "agent" or "rest"
	Base    string   `json:"base"`
	Methods []Method `json:"methods"`
}

// Method is one endpoint.
type Method struct {
	Name       string   `json:"name"`
	HTTP       string   `json:"http"`
	Path       string   `json:"path"`
	PathParams []Field  `json:"pathParams,omitempty"`
	Query      []Field  `json:"query"`
	Body       *Body    `json:"body"`
	Returns    *TypeRef `json:"returns"`
}

// Body is a request body: Kind "value" (Type is the bare JSON value) or
// "object" (Fields become one JSON object).
type Body struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name,omitempty"`
	Type   *TypeRef `json:"type,omitempty"`
	Fields []Field  `json:"fields,omitempty"`
}

// Load reads and checks spec.json.
func Load(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return Parse(b)
}

// Parse decodes and checks spec.json's content: every reference resolves,
// query and path parameters are numbers, bodies have a known form. The
// generator relies on these facts, so a newer spec that breaks one fails
// here instead of generating wrong code.
func Parse(b []byte) (*Spec, error) {
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	s.enums = map[string]*Enum{}
	s.types = map[string]*Type{}
	for i := range s.Enums {
		s.enums[s.Enums[i].Name] = &s.Enums[i]
	}
	for i := range s.Types {
		s.types[s.Types[i].Name] = &s.Types[i]
	}
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	check := func(where string, tr *TypeRef) {
		if err := s.checkRef(tr); err != nil {
			bad("%s: %v", where, err)
		}
	}
	for _, e := range s.Enums {
		for _, v := range e.Values {
			if !e.Flags && string(v.Value) != `"`+v.Name+`"` {
				bad("enum %s.%s: value %s is not its name", e.Name, v.Name, v.Value)
			}
		}
	}
	for _, t := range s.Types {
		if t.Extends != "" && s.types[t.Extends] == nil {
			bad("type %s extends unknown %s", t.Name, t.Extends)
		}
		for _, f := range t.Fields {
			check(t.Name+"."+f.Wire, &f.Type)
		}
		if d := t.Discriminator; d != nil {
			for _, m := range d.Map {
				if st := s.types[m.Type]; st == nil || st.Extends != t.Name {
					bad("type %s: discriminated subtype %s does not extend it", t.Name, m.Type)
				}
			}
		}
	}
	for _, sv := range s.Services {
		if sv.Kind != "agent" && sv.Kind != "rest" {
			bad("service %s: kind %q", sv.Name, sv.Kind)
		}
		for _, m := range sv.Methods {
			w := sv.Name + "." + m.Name
			for _, p := range append(append([]Field(nil), m.Query...), m.PathParams...) {
				if p.Type.Prim != "number" {
					bad("%s: parameter %s is not a number", w, p.Wire)
				}
			}
			if len(m.Query) > 1 {
				bad("%s: more than one query parameter", w)
			}
			for _, p := range m.PathParams {
				if !strings.Contains(m.Path, "{"+p.Wire+"}") {
					bad("%s: path %q lacks {%s}", w, m.Path, p.Wire)
				}
			}
			if b := m.Body; b != nil {
				switch b.Kind {
				case "value":
					check(w+" body", b.Type)
				case "object":
					for _, f := range b.Fields {
						check(w+" body."+f.Wire, &f.Type)
					}
					if len(b.Fields) >= 2 && b.Name == "" {
						bad("%s: object body without a name for its request struct", w)
					}
				default:
					bad("%s: body kind %q", w, b.Kind)
				}
			}
			if m.Returns != nil {
				check(w+" result", m.Returns)
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("spec: %s", strings.Join(errs, "; "))
	}
	return &s, nil
}

func (s *Spec) checkRef(tr *TypeRef) error {
	switch {
	case tr == nil:
		return fmt.Errorf("missing type")
	case tr.Prim != "":
		switch tr.Prim {
		case "string", "int", "number", "bool", "datetime", "any", "binary":
			return nil
		}
		return fmt.Errorf("unknown primitive %q", tr.Prim)
	case tr.Ref != "":
		if s.types[tr.Ref] == nil {
			return fmt.Errorf("unknown type %q", tr.Ref)
		}
	case tr.Enum != "":
		if s.enums[tr.Enum] == nil {
			return fmt.Errorf("unknown enum %q", tr.Enum)
		}
	case tr.Array != nil:
		return s.checkRef(tr.Array)
	case tr.Map != nil:
		return s.checkRef(tr.Map)
	default:
		return fmt.Errorf("empty type")
	}
	return nil
}

// TypeByName returns the named type, or nil.
func (s *Spec) TypeByName(name string) *Type { return s.types[name] }

// EnumByName returns the named enum, or nil.
func (s *Spec) EnumByName(name string) *Enum { return s.enums[name] }

// AllFields returns a type's fields with those of the type it extends
// first, as they appear on the wire.
func (s *Spec) AllFields(t *Type) []Field {
	if t.Extends == "" {
		return t.Fields
	}
	return append(append([]Field(nil), s.AllFields(s.types[t.Extends])...), t.Fields...)
}

// Polymorphic reports whether the named type is a base decoded by a
// discriminator.
func (s *Spec) Polymorphic(name string) bool {
	t := s.types[name]
	return t != nil && t.Discriminator != nil
}
