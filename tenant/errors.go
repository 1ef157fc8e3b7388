package tenant

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinels that errors.Is finds in the errors this package returns.
var (
	// ErrNotFound: the entity or endpoint does not exist (404).
	ErrNotFound = errors.New("tenant: not found")
	// ErrUnauthorized: the credentials were refused (401), even after one
	// fresh system user ticket.
	ErrUnauthorized = errors.New("tenant: unauthorized")
	// ErrForbidden: the principal may not do this (403).
	ErrForbidden = errors.New("tenant: forbidden")
	// ErrBadRequest: the server refused the request or its entity (400),
	// a validation error, say; Error.Message says why.
	ErrBadRequest = errors.New("tenant: bad request")
	// ErrConflict: the entity changed or exists already (409, 412).
	ErrConflict = errors.New("tenant: conflict")
	// ErrRateLimited: the server kept answering 429 until retries ran out.
	ErrRateLimited = errors.New("tenant: rate limited")
	// ErrServer: the server kept failing (5xx) until retries ran out.
	ErrServer = errors.New("tenant: server error")
	// ErrMisdirected: the tenant is not served by this host (421); it has
	// moved, and re-resolving through the state API did not help or was
	// not configured (see Config.Resolver).
	ErrMisdirected = errors.New("tenant: misdirected request (tenant moved)")
	// ErrRedirect: the server answered with a redirect, which is never
	// followed so that credentials never travel to another host.
	ErrRedirect = errors.New("tenant: redirect not followed")
	// ErrTenantNotRunning: the state API says the tenant is not running
	// (offline maintenance, suspended, deleted...); Error.State has the
	// state. No request was sent to the tenant.
	ErrTenantNotRunning = errors.New("tenant: tenant is not running")
	// ErrForeignHost: a URL (the base URL, the state API's Api or
	// Endpoint, a next link) is not on the environment's hosts (with
	// Credentials and no Environment: not on a SuperOffice Online host),
	// carries user info, or a request path leads out of the tenant's base
	// path, so it was not called and received no credentials.
	ErrForeignHost = errors.New("tenant: URL is outside the environment's domain or the tenant's path")
)

// maxErrorBody caps how much of an error response is kept.
const maxErrorBody = 1 << 20

// Error is the error every method of this package returns for a failed
// request: an HTTP status the server answered, a request that could not
// be sent, a tenant that is not running, or a URL that was refused. Match
// it with errors.As, or its kind with errors.Is and the sentinels.
type Error struct {
	// StatusCode is the HTTP status, or 0 when no response was received.
	StatusCode int
	// Method and URL name the request; query values are redacted.
	Method string
	URL    string
	// Body is the response body, at most 1 MiB, with the request's
	// credentials replaced by REDACTED should it echo them.
	Body []byte
	// Type is the server's name for the error, its ErrorType (or
	// ExceptionType), such as SoNotFoundException; empty when it gave none.
	Type string
	// Message is the server's own message, decoded from a JSON body
	// (ErrorMessage, ExceptionMessage, Message, error_description, detail,
	// title or error, in that order of preference, names in any case), or
	// a plain text body; empty when there was none.
	Message string
	// State is the tenant's state when the error is ErrTenantNotRunning
	// (and whenever a Resolver had it at hand).
	State *State
	// RetryAfter is how long the server asked to wait before another try
	// (its Retry-After header, on a 429 or a 503 say); 0 when it did not
	// say. The client's own retries wait for it up to RetryPolicy.MaxWait;
	// this is the last answer's, for a caller that schedules the next try.
	RetryAfter time.Duration

	kind  error // a sentinel, when the status alone does not say
	cause error // what went wrong below HTTP
}

// Error describes the failure: the method and redacted URL, the kind or
// status, the server's error type and message, and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tenant:")
	sep := " " // before the next part: none has been written yet
	part := func(s string) {
		b.WriteString(sep)
		b.WriteString(s)
		sep = ": "
	}
	if req := strings.TrimSpace(e.Method + " " + e.URL); req != "" {
		part(req)
	}
	switch {
	case e.kind == ErrTenantNotRunning && e.State != nil:
		part(fmt.Sprintf("tenant %s is %s", e.State.ContextIdentifier, e.State.State))
	case e.StatusCode != 0:
		part(fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode)))
	case e.kind != nil:
		part(strings.TrimPrefix(e.kind.Error(), "tenant: "))
	}
	if e.Type != "" {
		part(e.Type)
	}
	if e.Message != "" {
		part(e.Message)
	}
	if e.cause != nil {
		part(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause (a transport error, a ctx error, a
// ticket source's error), if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is the sentinel for this error's kind.
func (e *Error) Is(target error) bool {
	if e.kind != nil && target == e.kind {
		return true
	}
	s := e.StatusCode
	switch target {
	case ErrNotFound:
		return s == http.StatusNotFound || s == http.StatusGone
	case ErrUnauthorized:
		return s == http.StatusUnauthorized
	case ErrForbidden:
		return s == http.StatusForbidden
	case ErrBadRequest:
		return s == http.StatusBadRequest || s == http.StatusUnprocessableEntity
	case ErrConflict:
		return s == http.StatusConflict || s == http.StatusPreconditionFailed
	case ErrRateLimited:
		return s == http.StatusTooManyRequests
	case ErrServer:
		return s >= 500
	case ErrMisdirected:
		return s == http.StatusMisdirectedRequest
	case ErrRedirect:
		return s >= 300 && s < 400
	}
	return false
}

// errorBody is what an error response may say, in the shapes seen:
// SuperOffice's {"Error":true,"ErrorType":...,"ErrorMessage":...,
// "ErrorSource":...} (PROTOCOL 12), ASP.NET's {"Message":...,
// "ExceptionType":...,"ExceptionMessage":...}, a bare {"Message":...},
// and OAuth's and RFC 9457's fields. encoding/json matches the names in
// any case.
type errorBody struct {
	ErrorType, ExceptionType                text
	ErrorMessage, ExceptionMessage, Message text
	ErrorDescription                        text `json:"error_description"`
	Detail, Title                           text
	Error                                   text // a string in OAuth errors, true in SuperOffice's
}

// text is a JSON string; any other value (a number, true, an object)
// reads as "", so that one odd field does not hide the others.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = text(strings.TrimSpace(s))
	}
	return nil
}

// decodeError finds the server's error type and a human-readable message
// in an error body: a JSON object's fields, or a plain text body.
func decodeError(contentType string, body []byte) (typ, msg string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", ""
	}
	if body[0] == '{' {
		var e errorBody
		if json.Unmarshal(body, &e) != nil {
			return "", ""
		}
		typ = string(cmp.Or(e.ErrorType, e.ExceptionType))
		msg = string(cmp.Or(e.ErrorMessage, e.ExceptionMessage, e.Message, e.ErrorDescription, e.Detail, e.Title, e.Error))
		return clip(typ), clip(msg)
	}
	if strings.HasPrefix(contentType, "text/plain") {
		return "", clip(string(body))
	}
	return "", ""
}

// clip makes a server's message fit for logs and stores: at most 300 bytes,
// cut between letters (a cut inside one, say a Norwegian "ø", would leave
// half of it), and valid UTF-8 (a text/plain body may be in any encoding).
func clip(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) > 300 {
		i := 300
		for !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "..."
	}
	return s
}
