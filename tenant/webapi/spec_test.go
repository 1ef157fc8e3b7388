package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

// The tests in this file are driven by spec.json itself: every method is
// called, and every type decoded and encoded, with samples built from the
// spec's own field lists.

var (
	loadOnce sync.Once
	theSpec  *spec.Spec
	specErr  error
)

func loadSpec(t testing.TB) *spec.Spec {
	t.Helper()
	loadOnce.Do(func() { theSpec, specErr = spec.Load("spec/spec.json") })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return theSpec
}

// methodCall is one generated call of a method (methods_gen_test.go).
type methodCall struct {
	service, method string
	reader          bool // the Reader variant of a binary method
	fn              func(c *caller) (any, error)
}

// caller holds what a methodCall needs: the API and the sample arguments.
type caller struct {
	t    testing.TB
	ctx  context.Context
	api  *API
	args [][]byte // the sample JSON of each parameter, in Params order
}

// arg decodes the sample of parameter i into the parameter's Go type.
func arg[T any](c *caller, i int) T {
	var v T
	if err := json.Unmarshal(c.args[i], &v); err != nil {
		c.t.Fatalf("decode sample argument %d %s into %T: %v", i, c.args[i], v, err)
	}
	return v
}

func readAll(rc io.ReadCloser, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// recorded is one request the recording server received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// recorder is an httptest server that records each request and answers
// with the response set for it.
type recorder struct {
	mu       sync.Mutex
	reqs     []recorded
	status   int
	ctype    string
	response []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	status, ctype, resp := rec.status, rec.ctype, rec.response
	rec.mu.Unlock()
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func (rec *recorder) answer(status int, ctype string, body []byte) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs, rec.status, rec.ctype, rec.response = nil, status, ctype, body
}

func (rec *recorder) requests() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

// prefix is where the recording server mounts the web API: a non-empty
// path, so that a method building an absolute path fails.
const prefix = "/Cust12345/api/"

func setup(t *testing.T) (*API, *recorder) {
	t.Helper()
	rec := &recorder{status: http.StatusOK}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return New(newTestClient(t, srv.URL+prefix, srv.Client())), rec
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(a, b []byte) (bool, error) {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return false, fmt.Errorf("%w in %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return false, fmt.Errorf("%w in %s", err, b)
	}
	return reflect.DeepEqual(va, vb), nil
}

// diffJSON names the top-level keys on which two JSON objects differ, to
// keep failure messages short.
func diffJSON(want, got []byte) string {
	var w, g map[string]any
	if json.Unmarshal(want, &w) != nil || json.Unmarshal(got, &g) != nil {
		return fmt.Sprintf("want %.300s\ngot  %.300s", want, got)
	}
	var diffs []string
	for k, v := range w {
		if !reflect.DeepEqual(v, g[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: want %v got %v", k, v, g[k]))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected %v", k, g[k]))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "\n")
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEveryTypeRoundTrips(t *testing.T) {
	s := loadSpec(t)
	if len(typeFactories) != len(s.Types) {
		t.Fatalf("%d type factories for %d types: regenerate", len(typeFactories), len(s.Types))
	}
	smp := &spec.Sampler{Spec: s, MaxDepth: 3}
	for _, ty := range s.Types {
		mk := typeFactories[ty.Name]
		if mk == nil {
			t.Errorf("type %s has no Go type", ty.Name)
			continue
		}
		sample := mustJSON(t, smp.Object(ty.Name, 0))
		v := mk()
		if err := json.Unmarshal(sample, v); err != nil {
			t.Errorf("%s: decode sample: %v", ty.Name, err)
			continue
		}
		got := mustJSON(t, v)
		if ok, err := jsonEqual(sample, got); err != nil || !ok {
			t.Errorf("%s does not round-trip (%v):\n%s", ty.Name, err, diffJSON(sample, got))
		}
	}
}

// TestEveryRequestRoundTrips checks the request structs: one for every
// object body of two or more fields, whose JSON keys are exactly the
// body's keys (a sample with every key decodes and encodes back to itself,
// so a tag that differs only in case fails too).
func TestEveryRequestRoundTrips(t *testing.T) {
	s := loadSpec(t)
	smp := &spec.Sampler{Spec: s}
	n := 0
	for i := range s.Services {
		for j := range s.Services[i].Methods {
			m := &s.Services[i].Methods[j]
			if !spec.HasRequest(m) {
				continue
			}
			n++
			mk := requestFactories[m.Body.Name]
			if mk == nil {
				t.Errorf("%s.%s: no request struct for %s", s.Services[i].Name, m.Name, m.Body.Name)
				continue
			}
			sample := mustJSON(t, smp.Body(m.Body.Fields))
			v := mk()
			if err := json.Unmarshal(sample, v); err != nil {
				t.Errorf("%s: decode sample: %v", m.Body.Name, err)
				continue
			}
			got := mustJSON(t, v)
			if ok, err := jsonEqual(sample, got); err != nil || !ok {
				t.Errorf("%s does not round-trip (%v):\n%s", m.Body.Name, err, diffJSON(sample, got))
			}
			if k := reflect.TypeOf(v).Elem().NumField(); k != len(m.Body.Fields) {
				t.Errorf("%s: %d fields, the body has %d", m.Body.Name, k, len(m.Body.Fields))
			}
		}
	}
	if n != len(requestFactories) {
		t.Errorf("%d request structs for %d bodies of two or more fields: regenerate", len(requestFactories), n)
	}
	t.Logf("%d request structs", n)
}

// expectedPath is the path a method must call, with its path parameter
// set to the sample.
func expectedPath(sv *spec.Service, m *spec.Method, ps []spec.Param, args [][]byte) string {
	p := sv.Base + m.Path
	if m.Path == "" {
		p = strings.TrimSuffix(p, "/")
	}
	for i, pp := range ps {
		if pp.In == "path" {
			p = strings.Replace(p, "{"+pp.Wire+"}", string(args[i]), 1)
		}
	}
	return prefix + p
}

func TestEveryMethodSendsWhatTheSpecSays(t *testing.T) {
	s := loadSpec(t)
	api, rec := setup(t)
	methods := map[string]*spec.Method{}
	services := map[string]*spec.Service{}
	total := 0
	for i := range s.Services {
		sv := &s.Services[i]
		for j := range sv.Methods {
			methods[sv.Name+"."+sv.Methods[j].Name] = &sv.Methods[j]
			services[sv.Name+"."+sv.Methods[j].Name] = sv
			total++
		}
	}
	called := map[string]bool{}
	for _, mc := range methodCalls {
		key := mc.service + "." + mc.method
		m, sv := methods[key], services[key]
		if m == nil {
			t.Errorf("%s is not in the spec: regenerate", key)
			continue
		}
		called[key] = true
		name := key
		if mc.reader {
			name += "Reader"
		}
		checkMethod(t, s, api, rec, sv, m, mc, name)
	}
	if len(called) != total {
		t.Errorf("called %d of the spec's %d methods", len(called), total)
	}
	t.Logf("called %d methods (%d calls)", len(called), len(methodCalls))
}

func checkMethod(t *testing.T, s *spec.Spec, api *API, rec *recorder, sv *spec.Service, m *spec.Method, mc methodCall, name string) {
	t.Helper()
	smp := &spec.Sampler{Spec: s}
	ps := s.Params(m)
	c := &caller{t: t, ctx: context.Background(), api: api}
	for _, p := range ps {
		v, _ := smp.Value(p.Wire, &p.Type)
		c.args = append(c.args, mustJSON(t, v))
	}
	var want []byte
	switch r := m.Returns; {
	case r == nil:
		rec.answer(http.StatusNoContent, "", nil)
	case r.Prim == "binary":
		want = []byte("\x00raw bytes of " + name + "\xff")
		rec.answer(http.StatusOK, "application/octet-stream", want)
	default:
		v, _ := smp.Value(m.Name, r)
		want = mustJSON(t, v)
		rec.answer(http.StatusOK, "application/json; charset=utf-8", want)
	}
	got, err := mc.fn(c)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Errorf("%s: %d requests, want 1", name, len(reqs))
		return
	}
	r := reqs[0]
	if r.Method != m.HTTP {
		t.Errorf("%s: verb %s, want %s", name, r.Method, m.HTTP)
	}
	if p := expectedPath(sv, m, ps, c.args); r.Path != p {
		t.Errorf("%s: path %s, want %s", name, r.Path, p)
	}
	wantQuery := url.Values{}
	for i, p := range ps {
		if p.In == "query" {
			wantQuery.Set(p.Wire, string(c.args[i]))
		}
	}
	if q, err := url.ParseQuery(r.RawQuery); err != nil || !reflect.DeepEqual(q, wantQuery) && !(len(q) == 0 && len(wantQuery) == 0) {
		t.Errorf("%s: query %q, want %q", name, r.RawQuery, wantQuery.Encode())
	}
	// The body: none, the bare value, or one object of all parameters.
	var wantBody []byte
	if b := m.Body; b != nil {
		switch b.Kind {
		case "value":
			wantBody = c.args[len(c.args)-1]
		case "object":
			obj := map[string]json.RawMessage{}
			for i, p := range ps {
				if p.In == "object" {
					obj[p.Wire] = c.args[i]
				}
			}
			wantBody = mustJSON(t, obj)
		}
	}
	switch {
	case wantBody == nil && len(r.Body) > 0:
		t.Errorf("%s: sent a body %.100s, want none", name, r.Body)
	case wantBody != nil:
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if ok, err := jsonEqual(wantBody, r.Body); err != nil || !ok {
			t.Errorf("%s: body (%v):\n%s", name, err, diffJSON(wantBody, r.Body))
		}
	}
	// The result.
	switch rt := m.Returns; {
	case rt == nil:
		if got != nil {
			t.Errorf("%s: returned %v", name, got)
		}
	case rt.Prim == "binary":
		if a := r.Header.Get("Accept"); !strings.Contains(a, "application/octet-stream") {
			t.Errorf("%s: Accept %q, want application/octet-stream", name, a)
		}
		if b, _ := got.([]byte); !bytes.Equal(b, want) {
			t.Errorf("%s: returned %q, want %q", name, got, want)
		}
	default:
		gotJSON := mustJSON(t, got)
		if ok, err := jsonEqual(want, gotJSON); err != nil || !ok {
			t.Errorf("%s: result (%v):\n%s", name, err, diffJSON(want, gotJSON))
		}
	}
}

// TestReadOnlyRule checks the retry rule: read-only methods ask for
// retries, others do not.
func TestReadOnlyRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"GetContactEntity", true}, {"FindSomething", true}, {"IsNumberValid", true},
		{"HasChildren", true}, {"CanAssignToProjectMember", true}, {"SearchText", true},
		{"GetNextInQueue", false}, {"GetNewMail", false}, {"SaveContactEntity", false},
		{"Getaway", false}, {"DeleteContactEntity", false}, {"CreateDefaultContactEntity", false},
	} {
		if got := spec.ReadOnly(tc.name); got != tc.want {
			t.Errorf("ReadOnly(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if len(options(true)) != 1 || len(options(false)) != 0 {
		t.Error("options do not follow the read flag")
	}
}

func TestZeroAPIReturnsAnError(t *testing.T) {
	var api API
	if _, err := api.ContactAgent.GetContactEntity(context.Background(), 1); err == nil || !strings.HasPrefix(err.Error(), "webapi:") {
		t.Errorf("err = %v", err)
	}
	if _, err := api.BLOBAgent.GetBlobStreamReader(context.Background(), 1); err == nil {
		t.Error("no error")
	}
	if err := api.Contact.DeleteByID(context.Background(), 1); err == nil {
		t.Error("no error")
	}
}

func TestQueryAndPathAreEncoded(t *testing.T) {
	if got := withQuery("v1/Agents/Contact/GetContact", "contactId", -5); got != "v1/Agents/Contact/GetContact?contactId=-5" {
		t.Errorf("withQuery = %s", got)
	}
	if got := pathInt(42); got != "42" {
		t.Errorf("pathInt = %s", got)
	}
}

// TestReadOnlyAgentMethodsAreRetried checks the rule end to end: on a 503
// the tenant client retries a read-only agent method, and not a write.
func TestReadOnlyAgentMethodsAreRetried(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + prefix, HTTPClient: srv.Client(),
		Retry: tenant.RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	api := New(c)
	ctx := context.Background()
	rec.answer(http.StatusServiceUnavailable, "", nil)
	if _, err := api.ContactAgent.GetContactEntity(ctx, 1); err == nil {
		t.Fatal("no error from a 503")
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("GetContactEntity: %d requests, want 2 (retried)", n)
	}
	rec.answer(http.StatusServiceUnavailable, "", nil)
	if _, err := api.ContactAgent.SaveContactEntity(ctx, &ContactEntity{Name: "x"}); err == nil {
		t.Fatal("no error from a 503")
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("SaveContactEntity: %d requests, want 1 (not retried)", n)
	}
	// Named like reads, these register, keep a chat turn or create a
	// selection: a retry would do that twice.
	for name, f := range map[string]func() error{
		"GetOrRegisterAccessGatewayInfo": func() error {
			_, err := api.UserAgent.GetOrRegisterAccessGatewayInfo(ctx, "https://example.com/cb")
			return err
		},
		"GetChatbotResponse": func() error {
			_, err := api.AIAgent.GetChatbotResponse(ctx, AIGetChatbotResponseRequest{ChatID: "c1", UserPrompt: "hi"})
			return err
		},
		"GetTempTileSelection": func() error { _, err := api.DashAgent.GetTempTileSelection(ctx, 1); return err },
	} {
		rec.answer(http.StatusServiceUnavailable, "", nil)
		if err := f(); err == nil {
			t.Fatalf("%s: no error from a 503", name)
		}
		if n := len(rec.requests()); n != 1 {
			t.Errorf("%s: %d requests, want 1 (not retried)", name, n)
		}
	}
}
