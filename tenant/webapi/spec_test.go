package webapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, specErr)
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
	require.NoError(c.t, json.Unmarshal(c.args[i], &v), "decode sample argument %d %s into %T", i, c.args[i], v)
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

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestEveryTypeRoundTrips(t *testing.T) {
	s := loadSpec(t)
	require.Len(t, typeFactories, len(s.Types), "a type factory for every type: regenerate")
	smp := &spec.Sampler{Spec: s, MaxDepth: 3}
	for _, ty := range s.Types {
		mk := typeFactories[ty.Name]
		if !assert.NotNil(t, mk, "type %s has no Go type", ty.Name) {
			continue
		}
		sample := mustJSON(t, smp.Object(ty.Name, 0))
		v := mk()
		if assert.NoError(t, json.Unmarshal(sample, v), "%s: decode sample", ty.Name) {
			assert.JSONEq(t, string(sample), string(mustJSON(t, v)), "%s does not round-trip", ty.Name)
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
			if !assert.NotNil(t, mk, "%s.%s: no request struct for %s", s.Services[i].Name, m.Name, m.Body.Name) {
				continue
			}
			sample := mustJSON(t, smp.Body(m.Body.Fields))
			v := mk()
			if assert.NoError(t, json.Unmarshal(sample, v), "%s: decode sample", m.Body.Name) {
				assert.JSONEq(t, string(sample), string(mustJSON(t, v)), "%s does not round-trip", m.Body.Name)
			}
			assert.Equal(t, len(m.Body.Fields), reflect.TypeOf(v).Elem().NumField(), "%s: one field per field of the body", m.Body.Name)
		}
	}
	assert.Len(t, requestFactories, n, "a request struct for every body of two or more fields: regenerate")
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
		if !assert.NotNil(t, m, "%s is not in the spec: regenerate", key) {
			continue
		}
		called[key] = true
		name := key
		if mc.reader {
			name += "Reader"
		}
		checkMethod(t, s, api, rec, sv, m, mc, name)
	}
	assert.Len(t, called, total, "every method of the spec is called")
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
	if !assert.NoError(t, err, name) {
		return
	}
	reqs := rec.requests()
	if !assert.Len(t, reqs, 1, "%s: one request", name) {
		return
	}
	r := reqs[0]
	assert.Equal(t, m.HTTP, r.Method, "%s: verb", name)
	assert.Equal(t, expectedPath(sv, m, ps, c.args), r.Path, "%s: path", name)
	wantQuery := url.Values{}
	for i, p := range ps {
		if p.In == "query" {
			wantQuery.Set(p.Wire, string(c.args[i]))
		}
	}
	q, err := url.ParseQuery(r.RawQuery)
	assert.NoError(t, err, "%s: query", name)
	if len(wantQuery) == 0 {
		assert.Empty(t, q, "%s: query", name)
	} else {
		assert.Equal(t, wantQuery, q, "%s: query", name)
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
	if wantBody == nil {
		assert.Empty(t, r.Body, "%s: a body, want none", name)
	} else {
		assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "%s: Content-Type %q", name, r.Header.Get("Content-Type"))
		assert.JSONEq(t, string(wantBody), string(r.Body), "%s: body", name)
	}
	// The result.
	switch rt := m.Returns; {
	case rt == nil:
		assert.Nil(t, got, "%s: result", name)
	case rt.Prim == "binary":
		assert.Contains(t, r.Header.Get("Accept"), "application/octet-stream", "%s: Accept", name)
		assert.Equal(t, want, got, "%s: result", name)
	default:
		assert.JSONEq(t, string(want), string(mustJSON(t, got)), "%s: result", name)
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
		assert.Equal(t, tc.want, spec.ReadOnly(tc.name), "ReadOnly(%s)", tc.name)
	}
	assert.Len(t, options(true), 1, "a read is idempotent")
	assert.Empty(t, options(false), "a write is not")
}

func TestZeroAPIReturnsAnError(t *testing.T) {
	var api API
	_, err := api.ContactAgent.GetContactEntity(context.Background(), 1)
	assert.ErrorIs(t, err, errNoClient)
	assert.ErrorContains(t, err, "webapi:")
	_, err = api.BLOBAgent.GetBlobStreamReader(context.Background(), 1)
	assert.ErrorIs(t, err, errNoClient)
	_, err = api.BLOBAgent.GetBlobStream(context.Background(), 1)
	assert.ErrorIs(t, err, errNoClient)
	assert.ErrorIs(t, api.Contact.DeleteByID(context.Background(), 1), errNoClient)
}

func TestQueryAndPathAreEncoded(t *testing.T) {
	assert.Equal(t, "v1/Agents/Contact/GetContact?contactId=-5", withQuery("v1/Agents/Contact/GetContact", "contactId", -5))
	assert.Equal(t, "42", pathInt(42))
}

// TestReadOnlyAgentMethodsAreRetried checks the rule end to end: on a 503
// the tenant client retries a read-only agent method, and not a write.
func TestReadOnlyAgentMethodsAreRetried(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + prefix, HTTPClient: srv.Client(),
		Retry: tenant.RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}})
	require.NoError(t, err)
	api := New(c)
	ctx := context.Background()
	rec.answer(http.StatusServiceUnavailable, "", nil)
	_, err = api.ContactAgent.GetContactEntity(ctx, 1)
	require.Error(t, err, "a 503")
	assert.Len(t, rec.requests(), 2, "GetContactEntity is retried")
	rec.answer(http.StatusServiceUnavailable, "", nil)
	_, err = api.ContactAgent.SaveContactEntity(ctx, &ContactEntity{Name: "x"})
	require.Error(t, err, "a 503")
	assert.Len(t, rec.requests(), 1, "SaveContactEntity is not retried")
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
		require.Error(t, f(), "%s: a 503", name)
		assert.Len(t, rec.requests(), 1, "%s is not retried", name)
	}
}
