package spec

import (
	"encoding/base64"
	"strings"
)

// Sampler builds sample JSON values (as decoded by encoding/json into any:
// map[string]any, []any, string, float64, bool) for typerefs, with every
// field of a type filled in. Successive dates and timespans cycle through
// the forms the server sends, and polymorphic bases cycle through their
// subtypes, so a sample of any size covers each form. The zero Sampler is
// ready to use with MaxDepth 2.
type Sampler struct {
	Spec *Spec
	// MaxDepth is how many nested objects a sample goes down; deeper
	// objects, and the arrays and maps holding them, are left out (as the
	// generated types omit empty pointers, slices and maps).
	MaxDepth int
	n        int
	subtype  map[string]int // the next subtype of each polymorphic base
}

// DateForms are the datetime strings a sample cycles through: offset-less
// (the server's default), the zero date, with an offset, UTC with 7
// fractional digits.
var DateForms = []string{
	"2002-08-07T14:52:00",
	"0001-01-01T00:00:00",
	"2021-03-04T05:06:07+02:00",
	"2020-10-05T09:52:01.9342965Z",
	"2019-12-31T23:59:59.5",
}

// TimeSpanForms are the .NET TimeSpan strings a sample cycles through.
var TimeSpanForms = []string{"01:02:03", "1.02:03:04", "00:00:00.5000000", "-00:30:00"}

func (s *Sampler) next() int { s.n++; return s.n }

// Value returns a sample of tr, named name (a field or parameter name, which
// decides int or float for numbers), and false when it is left out because
// it is too deep.
func (s *Sampler) Value(name string, tr *TypeRef) (any, bool) {
	return s.value(name, tr, 0)
}

func (s *Sampler) maxDepth() int {
	if s.MaxDepth == 0 {
		return 2
	}
	return s.MaxDepth
}

func (s *Sampler) value(name string, tr *TypeRef, depth int) (any, bool) {
	switch {
	case tr.Prim != "":
		return s.prim(name, tr), true
	case tr.Enum != "":
		return s.enum(s.Spec.EnumByName(tr.Enum)), true
	case tr.Ref != "":
		if depth >= s.maxDepth() {
			return nil, false
		}
		return s.Object(tr.Ref, depth+1), true
	case tr.Array != nil:
		v, ok := s.value(name, tr.Array, depth)
		if !ok {
			return nil, false
		}
		return []any{v}, true
	case tr.Map != nil:
		v, ok := s.value(name, tr.Map, depth)
		if !ok {
			return nil, false
		}
		// Integer keys, as IntStringDictionary has, are plain object keys.
		return map[string]any{"7": v}, true
	}
	return nil, false
}

func (s *Sampler) prim(name string, tr *TypeRef) any {
	switch tr.Prim {
	case "string":
		if tr.Format == "timespan" {
			return TimeSpanForms[s.next()%len(TimeSpanForms)]
		}
		return "s" + name
	case "number", "int":
		if IsInteger(name) || tr.Prim == "int" {
			return float64(40 + s.next()%50)
		}
		return 1.5 + float64(s.next()%50)
	case "bool":
		return true
	case "datetime":
		if tr.Format == "date" {
			return "1990-05-17T00:00:00"
		}
		return DateForms[s.next()%len(DateForms)]
	case "binary":
		return base64.StdEncoding.EncodeToString([]byte("bin-" + name))
	case "any":
		return map[string]any{"k": "v", "n": 1.0}
	}
	return nil
}

func (s *Sampler) enum(e *Enum) any {
	if !e.Flags {
		return e.Values[s.next()%len(e.Values)].Name
	}
	var names []string
	for _, v := range e.Values {
		if b := v.Bits(); b != 0 && b&(b-1) == 0 {
			names = append(names, v.Name)
		}
	}
	switch len(names) {
	case 0:
		return e.Values[0].Name
	case 1:
		return names[0]
	}
	i := s.next() % (len(names) - 1)
	return strings.Join(names[i:i+2], ", ")
}

// Body returns a sample of an object body: every field, as Value gives it.
func (s *Sampler) Body(fields []Field) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		if v, ok := s.value(f.Wire, &f.Type, 0); ok {
			out[f.Wire] = v
		}
	}
	return out
}

// Object returns a sample of the named type with all its fields (those it
// extends included). A polymorphic base gives a sample of one of its
// subtypes, with the discriminator set.
func (s *Sampler) Object(name string, depth int) map[string]any {
	t := s.Spec.TypeByName(name)
	var disc string
	if d := t.Discriminator; d != nil && len(d.Map) > 0 {
		if s.subtype == nil {
			s.subtype = map[string]int{}
		}
		m := d.Map[s.subtype[name]%len(d.Map)]
		s.subtype[name]++
		t, disc = s.Spec.TypeByName(m.Type), m.Value
	}
	out := map[string]any{}
	for _, f := range s.Spec.AllFields(t) {
		if v, ok := s.value(f.Wire, &f.Type, depth); ok {
			out[f.Wire] = v
		}
	}
	if disc != "" {
		base := s.Spec.TypeByName(t.Extends)
		out[base.Discriminator.Wire] = disc
	}
	return out
}
