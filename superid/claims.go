package superid

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClaimPrefix begins every SuperOffice-specific claim name.
const ClaimPrefix = "http://schemes.superoffice.net/identity/"

// Claims is what a verified SuperID id_token says about the user and the
// tenant. SuperID writes iat and every custom claim as a JSON string; they
// arrive here as proper Go types.
type Claims struct {
	// Subject is the user's SuperID user name (sub), usually an email.
	Subject string
	// ContextIdentifier is the tenant (customer) id, such as "Cust12345".
	ContextIdentifier string
	// SystemUserToken is the tenant's system user token for this app, sent
	// only to apps with system-user rights after an administrator approved
	// them. Store it byte for byte: it may contain spaces. It is a
	// credential: never log it.
	SystemUserToken string
	// WebAPIURL is the tenant's REST base URL, ending in /api/.
	WebAPIURL string
	// NetServerURL is the tenant's SOAP base URL.
	NetServerURL string
	// Serial is the tenant database's serial number.
	Serial string
	// Email, UPN and PrimaryEmail are the user's addresses as SuperID
	// knows them.
	Email, UPN, PrimaryEmail string
	// CompanyName is the user's company.
	CompanyName string
	// Initials are the user's initials.
	Initials string
	// IdentityProvider is informational; SuperOffice's documents and
	// tokens disagree on its values.
	IdentityProvider string
	// AssociateID is the user's associate id in the tenant.
	AssociateID int
	// IsAdministrator reports whether the user administers the tenant.
	IsAdministrator bool
	// Nonce echoes the nonce of the sign-in request.
	Nonce string
	// Issuer and Audience are iss and aud, already checked.
	Issuer   string
	Audience []string
	// IssuedAt, NotBefore and Expiry are iat, nbf and exp; NotBefore and
	// IssuedAt are zero when absent.
	IssuedAt, NotBefore, Expiry time.Time

	// raw is the token's payload: every claim, as sent.
	raw json.RawMessage
}

// Raw returns the token's claims as the JSON object SuperID sent, for
// claims this type does not name. The caller must not modify it.
func (c *Claims) Raw() json.RawMessage { return c.raw }

// Map decodes every claim into a map, numbers as json.Number.
func (c *Claims) Map() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(c.raw, &m); err != nil {
		return nil, fmt.Errorf("superid: decode claims: %w", err)
	}
	return m, nil
}

// Unmarshal decodes the claims into v, a struct with json tags. SuperID's
// custom claims are JSON strings, so give them string fields.
func (c *Claims) Unmarshal(v any) error {
	if err := json.Unmarshal(c.raw, v); err != nil {
		return fmt.Errorf("superid: decode claims: %w", err)
	}
	return nil
}

// idTokenClaims is the wire shape of an id_token payload, decoded by
// golang-jwt's parser and validated by its options (iss, aud, exp, nbf,
// iat). jwt.NumericDate reads SuperID's string iat ("1581665207") as well
// as a number.
type idTokenClaims struct {
	jwt.RegisteredClaims
	Nonce             string     `json:"nonce"`
	AuthorizedParty   string     `json:"azp"`
	ContextIdentifier string     `json:"http://schemes.superoffice.net/identity/ctx"`
	SystemUserToken   string     `json:"http://schemes.superoffice.net/identity/system_token"`
	WebAPIURL         string     `json:"http://schemes.superoffice.net/identity/webapi_url"`
	NetServerURL      string     `json:"http://schemes.superoffice.net/identity/netserver_url"`
	Serial            string     `json:"http://schemes.superoffice.net/identity/serial"`
	Email             string     `json:"http://schemes.superoffice.net/identity/email"`
	UPN               string     `json:"http://schemes.superoffice.net/identity/upn"`
	PrimaryEmail      string     `json:"http://schemes.superoffice.net/identity/so_primary_email_address"`
	CompanyName       string     `json:"http://schemes.superoffice.net/identity/company_name"`
	Initials          string     `json:"http://schemes.superoffice.net/identity/initials"`
	IdentityProvider  string     `json:"http://schemes.superoffice.net/identity/identityprovider"`
	AssociateID       stringInt  `json:"http://schemes.superoffice.net/identity/associateid"`
	IsAdministrator   stringBool `json:"http://schemes.superoffice.net/identity/is_administrator"`
}

// checkNames refuses a payload holding a claim whose name differs from one
// that idTokenClaims reads only in case ("NONCE"): encoding/json would
// read it under that name, which SuperID's specification does not give it.
func checkNames(payload []byte) error {
	names := make(map[string]anyValue, 32) // SuperID sends about 20 claims
	if err := json.Unmarshal(payload, &names); err != nil {
		return err
	}
	for name := range names {
		if exact, ok := claimNames[strings.ToLower(name)]; ok && name != exact {
			return fmt.Errorf("claim %.80q is not %q", name, exact)
		}
	}
	return nil
}

// anyValue skips a JSON value: only the names of the claims are wanted.
type anyValue struct{}

func (*anyValue) UnmarshalJSON([]byte) error { return nil }

// claimNames maps the lower case of every claim name idTokenClaims reads
// to its exact spelling.
var claimNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"} {
		m[n] = n
	}
	t := reflect.TypeFor[idTokenClaims]()
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" {
			m[strings.ToLower(n)] = n
		}
	}
	return m
}()

// stringBool is a boolean claim that SuperID sends as "True" or "False".
// It takes a JSON bool, or a string "true"/"false" in any case, "1"/"0",
// or "" (false: an empty claim grants nothing).
type stringBool bool

func (v *stringBool) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return json.Unmarshal(b, (*bool)(v))
	}
	switch s = strings.TrimSpace(s); {
	case strings.EqualFold(s, "true"), s == "1":
		*v = true
	case strings.EqualFold(s, "false"), s == "0", s == "":
		*v = false
	default:
		return fmt.Errorf("%.40q is not true or false", s)
	}
	return nil
}

// stringInt is an integer claim that SuperID sends as a string ("5"). It
// takes a JSON integer or a string holding one; "" is 0.
type stringInt int

func (v *stringInt) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*v = stringInt(n)
		return nil
	}
	if s = strings.TrimSpace(s); s == "" {
		*v = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%.40q is not an integer", s)
	}
	*v = stringInt(n)
	return nil
}

func (c *idTokenClaims) claims(raw json.RawMessage) *Claims {
	out := &Claims{
		Subject:           c.Subject,
		ContextIdentifier: c.ContextIdentifier,
		SystemUserToken:   c.SystemUserToken,
		WebAPIURL:         c.WebAPIURL,
		NetServerURL:      c.NetServerURL,
		Serial:            c.Serial,
		Email:             c.Email,
		UPN:               c.UPN,
		PrimaryEmail:      c.PrimaryEmail,
		CompanyName:       c.CompanyName,
		Initials:          c.Initials,
		IdentityProvider:  c.IdentityProvider,
		AssociateID:       int(c.AssociateID),
		IsAdministrator:   bool(c.IsAdministrator),
		Nonce:             c.Nonce,
		Issuer:            c.Issuer,
		Audience:          c.Audience,
		raw:               raw,
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	if c.NotBefore != nil {
		out.NotBefore = c.NotBefore.Time
	}
	if c.ExpiresAt != nil {
		out.Expiry = c.ExpiresAt.Time
	}
	return out
}
