// Package superid signs users in with SuperID, SuperOffice Online's OpenID
// Connect provider, and validates what it returns: the id_token whose
// claims name the tenant (its context identifier, CustNNNNN), its web API
// URL and, for apps with system-user rights that an administrator approved,
// the tenant's system user token.
//
// # Signing in
//
// Create a Client with New (it does no I/O) and mount its handlers:
//
//	client, err := superid.New(superid.Config{
//		Environment:  superid.SOD, // or Stage, Online, or the emulator's URL
//		ClientID:     clientID,
//		ClientSecret: clientSecret,
//		RedirectURL:  "https://app.example.com/callback",
//	})
//	mux.Handle("/login", client.LoginHandler())
//	mux.Handle("/callback", client.CallbackHandler(onLogin, nil))
//
// LoginHandler seals state, nonce and PKCE verifier into a short-lived
// encrypted cookie and redirects to SuperID; CallbackHandler checks them,
// redeems the code, verifies the id_token and calls onLogin with a *Login:
// typed Claims and the user's *oauth2.Token. Without the handlers, make a
// LoginRequest (NewLoginRequest), keep it where the callback finds it, and
// use AuthCodeURL, Exchange, Refresh and TokenSource directly.
//
// # Validation
//
// VerifyIDToken accepts only RS256 tokens signed by a key of SuperID's key
// set, issued by the environment (the root URL, without /login) to this
// client, unexpired, with nbf and iat not in the future (a leeway of five
// minutes by default), no larger than MaxTokenSize and, with WithNonce,
// with the login's nonce. golang-jwt's Parser and Validator do the checking. SuperID
// writes iat and every custom claim as JSON strings ("False", "5"); Claims
// holds them as Go types, and Raw, Map and Unmarshal give every claim as
// sent. Claim names match exactly: a token with a claim whose name differs
// from a known one only in case ("NONCE") is refused.
//
// Keys come from a KeySet (see NewKeySet; systemuser shares it to verify
// system-user JWTs), held in jwkset's storage and looked up through
// keyfunc. It matches a token's key by kid, else by x5t, else tries every
// RSA key, and refreshes once when a token names a key it lacks, without
// letting unknown keys cause a storm of requests. A set a day old is
// fetched again in the background while the old keys serve.
//
// # Errors
//
// Every error is a *Error. Match its kind with errors.Is: ErrInvalidToken
// (and the specific ErrExpired, ErrIssuer, ErrSignature...), ErrKeySet,
// ErrTokenRequest, ErrAuthorization and ErrAccessDenied for SuperID's
// error responses (only those whose state matches the login cookie),
// ErrLoginState for a callback that does not belong to a login this app
// started, ErrConfig for a bad Config or a Client not made by New. No
// error or log line holds a token, code or secret.
//
// # Testing
//
// Package superidtest is an in-process SuperOffice Online: run the whole
// sign-in against it, with its HTML pages or headless.
package superid
