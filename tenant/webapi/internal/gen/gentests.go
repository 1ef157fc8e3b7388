package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

// typeTests writes typeFactories: an empty value of every type by spec
// name (the holder for a polymorphic base), and requestFactories: an empty
// request struct by body name, for the round-trip tests.
func (g *gen) typeTests(w *bytes.Buffer) {
	w.WriteString("package webapi\n\n// typeFactories makes an empty value of every type of the spec, by spec name.\nvar typeFactories = map[string]func() any{\n")
	for _, t := range g.s.Types {
		n := spec.GoName(t.Name)
		if p := g.polys[t.Name]; p != nil {
			n = p.holder
		}
		fmt.Fprintf(w, "\t%q: func() any { return new(%s) },\n", t.Name, n)
	}
	w.WriteString("}\n\n// requestFactories makes an empty request struct of every object body of two or more fields, by body name.\nvar requestFactories = map[string]func() any{\n")
	for i := range g.s.Services {
		for j := range g.s.Services[i].Methods {
			m := &g.s.Services[i].Methods[j]
			if n := g.reqs[m]; n != "" {
				fmt.Fprintf(w, "\t%q: func() any { return new(%s) },\n", m.Body.Name, n)
			}
		}
	}
	w.WriteString("}\n")
}

// methodTests writes methodCalls: one call of every method (and of every
// Reader variant) with arguments decoded from the spec's samples.
func (g *gen) methodTests(w *bytes.Buffer) {
	w.WriteString("package webapi\n\n// methodCalls calls every method of the spec once, with the sample arguments the caller holds.\nvar methodCalls = []methodCall{\n")
	for i := range g.s.Services {
		sv := &g.s.Services[i]
		for j := range sv.Methods {
			m := &sv.Methods[j]
			var args, fields []string
			req := g.reqs[m]
			for k, p := range g.s.Params(m) {
				if req != "" && p.In == "object" {
					// A request struct field holds what a type's field holds.
					fields = append(fields, fmt.Sprintf("%s: arg[%s](c, %d)", spec.GoName(p.Wire), g.goType(p.Wire, &p.Type, "field"), k))
					continue
				}
				typ := g.goType(p.Wire, &p.Type, "param")
				if pl := g.polys[p.Type.Ref]; pl != nil {
					args = append(args, fmt.Sprintf("arg[%s](c, %d).Value", pl.holder, k))
					continue
				}
				args = append(args, fmt.Sprintf("arg[%s](c, %d)", typ, k))
			}
			if req != "" {
				args = append(args, req+"{"+strings.Join(fields, ", ")+"}")
			}
			callExpr := fmt.Sprintf("c.api.%s.%s(%s)", apiField(sv), spec.GoName(m.Name), strings.Join(append([]string{"c.ctx"}, args...), ", "))
			if m.Returns == nil {
				fmt.Fprintf(w, "\t{%q, %q, false, func(c *caller) (any, error) { return nil, %s }},\n", sv.Name, m.Name, callExpr)
				continue
			}
			fmt.Fprintf(w, "\t{%q, %q, false, func(c *caller) (any, error) { return %s }},\n", sv.Name, m.Name, callExpr)
			if m.Returns.Prim == "binary" {
				readExpr := fmt.Sprintf("c.api.%s.%sReader(%s)", apiField(sv), spec.GoName(m.Name), strings.Join(append([]string{"c.ctx"}, args...), ", "))
				fmt.Fprintf(w, "\t{%q, %q, true, func(c *caller) (any, error) { return readAll(%s) }},\n", sv.Name, m.Name, readExpr)
			}
		}
	}
	w.WriteString("}\n")
}
