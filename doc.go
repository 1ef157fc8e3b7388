// Package superoffice is the Go SDK for partner apps of SuperOffice CRM
// Online. This package holds no code: it is the map of the packages below
// it, which follow SuperOffice's documented "system user" scenario step by
// step.
//
// # The scenario
//
//  1. A tenant administrator opens the partner web app and is sent to
//     SuperID, SuperOffice's OpenID Connect provider, with the app's client
//     id (superid.Client.AuthCodeURL, superid.LoginHandler).
//  2. SuperID signs the user in and sends them back with a code; the app
//     exchanges it for tokens and validates the id_token against SuperID's
//     published keys (superid.Client.Exchange, superid.CallbackHandler).
//  3. The app stores the tenant: its context identifier (CustNNNNN), its
//     system user token and its web API URL, all typed claims of the
//     id_token (superid.Claims).
//  4. A partner service signs each tenant's system user token with the
//     partner's RSA private key and exchanges it at SuperID for a JWT that
//     holds a system user ticket, and validates that JWT
//     (systemuser.ParsePrivateKey, systemuser.Sign,
//     systemuser.Client.Exchange). Tickets are cached for their sliding
//     six-hour life (systemuser.Client.TicketSource).
//  5. It calls the tenant's web services with the ticket, for example to
//     create a company (tenant.Client with tenant.SystemUser credentials,
//     and webapi's Contact.CreateCompany); the signed-in user does the
//     same, the same way, with their own access token
//     (tenant.AccessToken). Where the tenant lives, and whether it is
//     running, comes from the tenant state API (tenant.Lookup).
//
// # Creating a company
//
// There is one way, for the system user and the signed-in user alike: a
// tenant.Client with the caller's credentials, and
// webapi.New(client).Contact.CreateCompany(ctx, name), which takes the
// documented path (GET v1/Contact/default, set the name, POST
// v1/Contact). Example (the README's quick start) runs both against the
// emulator.
//
// # Packages
//
//   - superid: environments, sign-in (OIDC code flow with PKCE), id_token
//     validation, typed claims, net/http handlers.
//   - systemuser: partner keys (.NET RSA XML or PEM), signing, the ticket
//     exchange and its JWT validation, the ticket cache.
//   - tenant: the REST transport (credentials, Do, OData lists read into
//     a type of the caller's), tenant state and routing, errors and
//     retries.
//   - tenant/webapi: every service, carrier and enum of the tenant web API,
//     generated, calling through the tenant client: the one model of every
//     entity (ContactEntity, PersonEntity...) and of dates (Time), with
//     Contact.CreateCompany and UserAgent.CurrentPrincipal beside them,
//     and WebhookAgent.Ensure and Remove to subscribe a tenant's webhooks.
//   - tenant/webhook: the receiver of SuperOffice's webhook deliveries: an
//     http.Handler that verifies the signature, drops duplicates and hands
//     each event to the app; per-tenant secrets derived from one key.
//   - superid/superidtest: an in-process emulator of SuperOffice Online
//     (SuperID, the exchange, the state API, a tenant REST API, webhook
//     deliveries and tenant status notifications) for tests, yours
//     included.
//
// The examples module beside this one holds two programs that run the
// whole scenario: examples/webapp (steps 1 to 3, and both ways of creating
// a company) and examples/console (the partner service, steps 4 and 5).
// With no configuration they run against the emulator.
//
// # Environments
//
// SuperOffice Online has three environments, each a superid.Environment:
// superid.SOD (development, https://sod.superoffice.com), superid.Stage
// (https://qaonline.superoffice.com) and superid.Online (production).
// Any other root URL, such as the emulator's, is an Environment too; see
// superid.ParseEnvironment.
//
// # Secrets
//
// System user tokens, tickets, access and refresh tokens, the client secret
// and private keys are credentials. No package logs them or puts them into
// an error string; logging is off unless a *slog.Logger is configured.
package superoffice
