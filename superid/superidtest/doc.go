// Package superidtest is a faithful, in-process emulator of SuperOffice
// Online: SuperID (OpenID Connect discovery, JWKS, sign-in, tokens), the
// partner system-user exchange, the tenant state API, a tenant REST API,
// webhook deliveries and tenant status notifications.
//
// It answers on the same paths and with the same wire formats as the real
// service (string iat and string custom claims, x5t-only key ids, tickets
// inside system-user JWTs), so code that passes against it is code that
// talks to SuperOffice. Partners use it in their own tests:
//
//	srv := superidtest.NewServer()
//	defer srv.Close()
//	srv.RegisterApp(superidtest.App{ClientID: "app", ClientSecret: "secret", ...})
//
// Faults can be injected per endpoint (a status, a delay, a tenant state),
// and every request received is recorded for assertions.
//
// # What is emulated, and where
//
//   - SuperID sign-in (login.go, login_page.go, token.go): OpenID Connect
//     discovery and JWKS with x5t key ids (keys.go), the authorize
//     endpoint with a sign-in and approval page or headless sign-in,
//     PKCE, the token endpoint's code and refresh grants, and id_tokens
//     with SuperOffice's claims as strings.
//   - The system-user exchange (systemuser.go): POST
//     /Login/api/PartnerSystemUser/Authenticate checks the signed system
//     user token (signature, timestamp window, approval) and answers
//     {IsSuccessful, Token, ErrorMessage} with a system-user JWT carrying
//     a ticket that lives six hours from its last use.
//   - The tenant state API (state.go): GET /api/state/{ctx}, the
//     unauthenticated version document at GET {Api}, and MoveTenant, after
//     which requests to the old host are answered 421.
//   - The tenant REST API (tenantapi.go, entity.go, wire.go, store.go,
//     tenantapi_odata.go): User/currentPrincipal, and Contact and Person
//     through one generic handler: GET .../default, GET, PUT and DELETE by
//     id, POST, and the OData lists. On the wire they are tenant/webapi's
//     generated ContactEntity and PersonEntity with every member present,
//     empty lists as [] and full rights as TableRight Mask "FULL", as
//     SuperOffice writes them (PROTOCOL.md section 12). Every member a
//     client POSTs or PUTs is stored and comes back on GET: the emulator
//     interprets names, numbers, emails, phones, urls, category, business,
//     country, associate and company, and keeps the rest (Address, Faxes,
//     UserDefinedFields, ...) as sent. A contact lists its persons.
//     Dates go without an offset unless the request sends "SO-TimeZone:
//     <tz>,includeTZOffset"; the emulator keeps UTC, so the offset it
//     adds is always Z.
//   - Errors of the tenant API have SuperOffice's documented body,
//     {"Error":true,"ErrorType":"SoNotFoundException","ErrorMessage":"...",
//     "ErrorSource":"SuperOffice.Services.Implementation"}; a Fault on
//     EndpointTenantAPI without a Body answers that body for its status,
//     so that 403 and 409, which the emulator never answers on its own,
//     can be tested too.
//   - The agents (agents.go): ContactAgent's CreateDefaultContactEntity,
//     GetContactEntity, SaveContactEntity, DeleteContactEntity and Merge,
//     on the same store as the REST service.
//   - Webhooks (webhook.go, webhook_api.go, webhook_delivery.go):
//     v1/Webhook and the Webhook agent, a test event on every save, and
//     signed deliveries with SuperOffice's headers, retries (after 1 s and
//     4 s, one EventId per cycle), TooManyErrors after nine failed cycles
//     and a stop at 410 Gone, whenever the tenant API creates, changes or
//     deletes a contact or person (PROTOCOL.md section 9).
//   - Tenant status notifications (statepush.go): to every app with a
//     state change URL (SetStateChangeURL), a POST of ChangeType,
//     ContextIdentifier, VersionName, FileVersion, PublicEndpoint and a
//     Token signed like an id_token, when MoveTenant or SetTenantState
//     moves, suspends, resumes or deletes a tenant, or on
//     NotifyStateChange; Notifications lists what each app answered
//     (PROTOCOL.md section 10).
//
// # What is guessed
//
// Where PROTOCOL.md marks a behaviour UNCERTAIN, the emulator picks one
// answer (guesses.go) and an Option picks the other, so partners can test
// both:
//
//   - The exchange's failure status. An unreadable body is 400 and a
//     wrong application token 401; every other refusal is 200 with
//     IsSuccessful=false. WithExchangeFailureStatus answers those with a
//     4xx or 5xx status instead.
//   - The system-user JWT's lifetime: five minutes, like an id_token.
//     WithSystemUserJWTLifetime sets another.
//   - Whether a non-administrator's id_token carries system_token: it
//     does, once the tenant approved the app. WithSystemTokenForAdministratorsOnly
//     keeps it to administrators.
//   - Case-insensitive paths: /login and /Login are the same.
//     WithCaseSensitivePaths serves only the documented casing
//     (/login/... and /Login/api/PartnerSystemUser/Authenticate).
//
// Guessed without an Option, because no client should depend on them:
//
//   - Exception names of the error bodies other than the documented
//     SoNotFoundException: 400 SoValidationException, 401
//     SoCredentialsException, 403 SoAccessDeniedException, 409
//     SoConcurrencyException, 421 SoTenantMovedException, 500
//     SoServerException, 503 SoTenantNotRunningException. The
//     ErrorMessage texts are the emulator's own, as are the exchange's.
//   - The claim set of the system-user JWT beyond ticket, ctx, serial,
//     webapi_url and netserver_url, which the official samples read.
//   - Which members of a stored entity the server would compute rather
//     than keep (the emulator keeps all it does not interpret), and
//     FieldProperties, answered empty.
//   - Webhooks: the FieldValues of created and changed events are
//     CultureDataFormatter strings ("[I:6]"), those of deleted events plain
//     JSON, as observed; an http TargetUrl is accepted for loopback hosts
//     only, where SuperOffice Online requires https.
//   - The signed system user token's timestamp window: five minutes either
//     way of the emulator's clock.
//
// The OData lists (GET .../v1/Contact and .../v1/Person) support a subset
// of what SuperOffice documents (REST reference, v1ContactEntity_GetAll):
//
//   - $select: plain column names (contactId, name, department, orgNr,
//     number1, number2, category, categoryId, business, businessId,
//     country, countryId, associateId, createdBy, createdDate,
//     updatedDate; for persons personId, firstname, middleName, lastname,
//     fullName, title, email, phone, contactId, contactName, associateId,
//     createdBy, createdDate, updatedDate), and category/id, business/id
//     and country/id for a contact's list items. SuperOffice documents
//     category/id as a $select column but not how the row names it; the
//     emulator answers the item's id under the path, spelled as in the
//     documentation's example ("category/id", whatever case was asked).
//     Paths are accepted in $select only, and list/value is refused with
//     400: it is not documented, so what it would return is a guess.
//   - $filter: conditions joined by "and" only, with eq, ne, lt, le, gt,
//     ge, is, isNot (numbers and strings) and begins, notBegins, contains,
//     notContains (strings, case-insensitive). The date operators (before,
//     date, after, dateBetween) are refused with 400: SuperOffice names
//     them but documents neither the date format, nor the time zone, nor
//     how dateBetween takes its two bounds, and an emulator that guessed
//     would pass code the real service rejects. Unary operators (today,
//     thisWeek, ...), "or" and functions such as startswith(a,b) are
//     refused with 400 too.
//   - $orderby (or $orderBy), $top, $skip, and paging with an absolute
//     odata.nextLink.
//   - $entities, $mode, $options, $context, $format, $jsonSafe and $output
//     are ignored.
package superidtest
