// Package tenant calls the REST web services of a SuperOffice CRM Online
// tenant, as the tenant's system user or as a signed-in user, and finds
// the tenant wherever it lives today.
//
// # Quick start
//
// This package is the transport: credentials, the tenant's base URL,
// errors, retries and pacing, OData paging. The entities (ContactEntity,
// PersonEntity...) and every service of the web API are tenant/webapi's,
// generated, calling through a Client. There is one way to create a
// company, the same as the system user and as the signed-in user:
// webapi's Contact.CreateCompany, which takes the documented path (GET
// v1/Contact/default, set the name, POST v1/Contact).
//
// A background service creates a company as the system user. The ticket
// source is systemuser's cache; the resolver finds the tenant through the
// state API:
//
//	su, _ := systemuser.New(systemuser.Config{Environment: superid.Online, ClientSecret: secret, PrivateKey: key})
//	resolver, _ := tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Online})
//	client, err := tenant.New(tenant.Config{
//		Resolver:          resolver,
//		ContextIdentifier: "Cust12345",
//		Credentials:       tenant.SystemUser(su.TicketSource("Cust12345", systemUserToken), secret),
//	})
//	company, err := webapi.New(client).Contact.CreateCompany(ctx, "Acme AS")
//
// The signed-in user does the same with a client whose Credentials are
// AccessToken(tokenSource) (superid.Client.TokenSource refreshes the
// token). To set more than the name, take the same steps by hand:
// Contact.GetDefault, change the entity, Contact.Post.
// UserAgent.CurrentPrincipal tells who the credentials act as.
//
// # Lists
//
// List, Next and All read the web API's OData lists (v1/Contact,
// v1/Person, v1/Sale...) with the query options of ListOptions ($select,
// $filter, $orderby, $top, $skip), decoding each row into a type of the
// caller's: a struct with json tags named after the columns, or
// map[string]any. All is an iter.Seq2 over every row of every page: it
// follows odata.nextLink, or with ListOptions.PageSize pages with $top and
// $skip itself.
//
//	type row struct {
//		ID   int    `json:"contactId"`
//		Name string `json:"name"`
//	}
//	opts := &tenant.ListOptions{Select: []string{"contactId", "name"}, Filter: "name begins 'Acme'"}
//	for r, err := range tenant.All[row](ctx, client, "v1/Contact", opts) {
//		...
//	}
//
// Every other endpoint is reached with Do, which tenant/webapi builds on.
//
// # Authentication
//
// SystemUser sends "Authorization: SOTicket <ticket>" and "SO-AppToken:
// <client secret>". After a 401 it invalidates the ticket, which makes the
// source exchange for a new one, and sends the request once more; a second
// 401 is returned (ErrUnauthorized). Concurrent requests refused with the
// same ticket share one new exchange. A 401 on a fresh ticket (issued
// less than a minute ago, or fetched after the last 401) is returned at
// once, without a new exchange: a wrong application token must not cost
// an exchange per request. New refuses SystemUser credentials with an
// empty application token.
//
// AccessToken sends "Authorization: Bearer <access token>" from an
// oauth2.TokenSource (superid's, for the signed-in user), which refreshes
// the token before it expires.
//
// # Where the tenant lives
//
// A tenant's host changes as SuperOffice balances load. Lookup asks the
// state API (/api/state/{ctx}, no authentication) once; a Resolver caches
// each answer until its ValidUntil, but at most an hour (five minutes for
// a tenant that is not running), and bounds each state request by its
// LookupTimeout (30s). A Client with a Resolver
//
//   - refuses to call a tenant that is not running (offline maintenance,
//     suspended, deleted...) and returns ErrTenantNotRunning with the state,
//     without sending it anything;
//   - on 421 Misdirected Request looks the tenant up again and retries once;
//   - after a 5xx or no answer at all drops the cached state, so that the
//     next request looks the tenant up again (it may have gone offline or
//     moved);
//   - on a redirect (3xx), which it does not follow, drops the cached state
//     too, so that the next request asks the state API where the tenant is.
//
// A Client with a fixed BaseURL (the webapi_url claim) does none of this
// and returns ErrMisdirected on a 421.
//
// Concurrent requests for one tenant share one state request. A caller
// whose ctx ends returns at once with its ctx's error; the state request
// goes on, bounded by LookupTimeout, for the callers still waiting.
//
// A service that runs as several instances, or in runs that each start
// with an empty Resolver, need not keep every state in memory nor ask the
// state API on every run: Resolver.Cached gives a tenant's state and how
// long it holds, to keep with the tenant in the service's own database,
// and Resolver.Remember hands it to a resolver in a later run or on
// another instance, checked as an answer of the state API is.
//
// # Where credentials go
//
// Credentials go only to SuperOffice. With Credentials and no Environment,
// New accepts only a BaseURL on a host of the SuperOffice Online
// environments (https://sod, qaonline or online, bare or numbered, such as
// sod2.superoffice.com, on the default port) and refuses any other (another
// domain, http, an IP address, loopback, user info, a lookalike such as
// sod.superoffice.com.evil.example) with ErrForeignHost. An emulator or a
// test server is reached with credentials only when Config.Environment
// names it. A Client then refuses any URL outside its environment: a
// state API answer whose Api or Endpoint is elsewhere, an odata.nextLink,
// a path that leads out of the tenant's base path (ErrForeignHost), before
// any ticket is fetched or sent. Redirects are never followed.
//
// # Errors
//
// Every failure of a request is an *Error with the HTTP status, the
// method, the URL (query values redacted), up to 1 MiB of the body, and
// the server's error type (Type, such as SoNotFoundException) and
// message. Match kinds with errors.Is: ErrNotFound, ErrUnauthorized,
// ErrForbidden, ErrBadRequest (validation errors), ErrConflict,
// ErrRateLimited, ErrServer, ErrMisdirected, ErrRedirect,
// ErrTenantNotRunning, ErrForeignHost. Transport and ctx errors are
// wrapped, so errors.Is(err, context.DeadlineExceeded) works too. Input
// refused before anything is sent (a path that is not relative, bad
// ListOptions) is a plain error that names what is wrong. Tickets and
// tokens never appear in an error or a log line.
//
// # Retries
//
// GET, HEAD, PUT, DELETE and OPTIONS (in any case) are retried on
// connection errors, 429 and 5xx (but 501), with jittered exponential
// backoff, Retry-After honoured up to RetryPolicy.MaxWait, at most
// RetryPolicy.MaxRetries times, and never past the ctx. A POST, a PATCH
// or any other verb is sent once, as a retry could create a company
// twice, unless the caller marks it Idempotent. When retries run out the last
// answer is returned as an *Error (ErrRateLimited, ErrServer). A DELETE
// retried after no answer or a 5xx may find that its first attempt deleted
// the entity: it returns ErrNotFound, as for one that never was.
//
// # Pacing
//
// SuperOffice's custom-app checklist allows no more than 10 API calls per
// second, and SuperOffice may throttle apps. A Client paces its calls per
// tenant through a Pacer: 10 calls per second with a burst of 10, and at
// most 10 under way, per tenant, retries included. A caller waits for its
// turn and never gets an error for it, unless its ctx ends. After a 429,
// or a 503 with Retry-After, that tenant alone gets half its rate with no
// burst (its calls start one by one), until a minute passes without
// another. A job that makes
// 50 calls to one tenant takes at least 4 seconds; a service that makes a
// few calls to each of thousands of tenants is not slowed.
//
// The pace is kept per tenant, not per Client, so every Client of one
// tenant must share a Pacer: Config.Pacer nil uses one for the whole
// process; PacerConfig sets other limits; Rate Unlimited with a negative
// MaxConcurrent turns pacing off, for a test that makes many calls.
//
// # Tenant status notifications
//
// SuperOffice POSTs a notification to the app's state change URL when a
// tenant is upgraded, restored, suspended, resumed, deleted or moved. A
// StateChangeHandler mounted there verifies it (the token signed by the
// environment's SuperID, its issuer, its expiry, its tenant), updates the
// Resolver (a moved tenant's next call asks the state API instead of
// meeting a 421 at the old host; a suspended or deleted one's fails at
// once with ErrTenantNotRunning) and hands the StateChange to the app.
// Resolver.Apply does the same for a change that another instance of the
// service received.
//
// # Observing calls
//
// Every request to a tenant, each retry included, goes through
// Config.HTTPClient's Transport, which makes it the place for tracing:
// OpenTelemetry's otelhttp.NewTransport (go.opentelemetry.io/contrib/
// instrumentation/net/http/otelhttp) wraps it without this module
// depending on OpenTelemetry, and sees each attempt with its method, URL,
// status and duration (see Example_observability). The credentials are
// set before the transport is called: a tracer that records headers must
// leave Authorization and SO-AppToken out. A Resolver's state requests go
// through ResolverConfig.HTTPClient the same way.
//
// A Meter counts calls, retries, 429s, credential exchanges and state
// lookups per tenant, for every Client and Resolver given it
// (Config.Meter, ResolverConfig.Meter). Read it with Tenant, All or
// Total, or publish it with expvar (a Meter is an expvar.Var). It holds
// counts and context identifiers only: no URL, query or credential.
//
// # Testing your code
//
// The emulator in superid/superidtest serves the state API and a tenant
// API (Contact, Person, their lists, currentPrincipal, webhooks) in
// memory, checks SOTicket with SO-AppToken or Bearer, pages OData lists,
// moves tenants (MoveTenant), posts status notifications to an app's
// state change URL (NotifyStateChange) and injects faults per endpoint. Its TicketFor and AccessTokenFor mint
// credentials without a key pair or a sign-in; Contacts and Persons show
// what your code created, and by whom.
package tenant
