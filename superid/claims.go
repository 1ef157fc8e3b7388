package superid

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
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

	// payload is the token's payload segment (base64url, already
	// decoded once by the verification, so decoding cannot fail): the
	// JSON is made only for a caller that asks for it.
	payload string
}

// Raw returns the token's claims as the JSON object SuperID sent, for
// claims this type does not name.
func (c *Claims) Raw() json.RawMessage {
	b, _ := base64.RawURLEncoding.DecodeString(c.payload)
	return b
}

// Map decodes every claim into a map, numbers as json.Number.
func (c *Claims) Map() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(c.Raw(), &m); err != nil {
		return nil, fmt.Errorf("superid: decode claims: %w", err)
	}
	return m, nil
}

// Unmarshal decodes the claims into v, a struct with json tags. SuperID's
// custom claims are JSON strings, so give them string fields.
func (c *Claims) Unmarshal(v any) error {
	if err := json.Unmarshal(c.Raw(), v); err != nil {
		return fmt.Errorf("superid: decode claims: %w", err)
	}
	return nil
}

// claimSet is an id_token's payload as golang-jwt's parser decodes it:
// one encoding/json pass into a map. The map keeps every claim name as
// sent, which the exact-name rule needs (a struct would take "NONCE" for
// nonce), so the payload is decoded once and never again. Its getters
// read the registered claims as golang-jwt's RegisteredClaims would.
type claimSet map[string]any

func (s claimSet) GetExpirationTime() (*jwt.NumericDate, error) { return date(s["exp"]) }
func (s claimSet) GetIssuedAt() (*jwt.NumericDate, error)       { return date(s["iat"]) }
func (s claimSet) GetNotBefore() (*jwt.NumericDate, error)      { return date(s["nbf"]) }
func (s claimSet) GetIssuer() (string, error)                   { return str(s["iss"]) }
func (s claimSet) GetSubject() (string, error)                  { return str(s["sub"]) }
func (s claimSet) GetAudience() (jwt.ClaimStrings, error)       { return audience(s["aud"]) }

// claimSets holds emptied claimSets for reuse: encoding/json fills a
// map it is given, and one sized for SuperID's claims is the largest
// allocation of a verification.
var claimSets = sync.Pool{New: func() any { return make(claimSet, 24) }} // SuperID sends about 20 claims

// str reads a string claim; absent and null read as "".
func str(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", errors.New("not a string")
}

// date reads a NumericDate claim: a JSON number, or a string holding one
// (SuperID's iat), as golang-jwt's NumericDate reads them.
func date(v any) (*jwt.NumericDate, error) {
	var f float64
	switch v := v.(type) {
	case nil:
		return nil, nil
	case float64:
		f = v
	case string:
		// encoding/json reads the number, so that the string holds
		// exactly a JSON number, as jwt.NumericDate requires.
		if strings.TrimSpace(v) != v || json.Unmarshal([]byte(v), &f) != nil {
			return nil, fmt.Errorf("%.40q is not a number", v)
		}
	default:
		return nil, errors.New("not a number")
	}
	sec, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9))), nil
}

// audience reads aud, a string or an array of strings, as
// jwt.ClaimStrings reads it.
func audience(v any) (jwt.ClaimStrings, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return jwt.ClaimStrings{v}, nil
	case []any:
		aud := make(jwt.ClaimStrings, len(v))
		for i, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, errors.New("holds a non-string")
			}
			aud[i] = s
		}
		return aud, nil
	}
	return nil, errors.New("neither a string nor an array")
}

// idTokenClaims is the typed form of an id_token payload, validated by
// golang-jwt's Validator (iss, aud, exp, nbf, iat).
type idTokenClaims struct {
	jwt.RegisteredClaims
	Nonce             string
	AuthorizedParty   string
	ContextIdentifier string
	SystemUserToken   string
	WebAPIURL         string
	NetServerURL      string
	Serial            string
	Email             string
	UPN               string
	PrimaryEmail      string
	CompanyName       string
	Initials          string
	IdentityProvider  string
	AssociateID       stringInt
	IsAdministrator   stringBool
}

// typed reads the claims into an idTokenClaims, each under its exact
// name. A claim whose name differs from one read here only in case
// ("NONCE") is refused: SuperID's specification does not give it that
// name, and a reader matching names loosely would take it.
func (s claimSet) typed() (*idTokenClaims, error) {
	c := &idTokenClaims{}
	for name, v := range s {
		var err error
		switch name {
		case "iss":
			c.Issuer, err = str(v)
		case "sub":
			c.Subject, err = str(v)
		case "jti":
			c.ID, err = str(v)
		case "aud":
			c.Audience, err = audience(v)
		case "exp":
			c.ExpiresAt, err = date(v)
		case "nbf":
			c.NotBefore, err = date(v)
		case "iat":
			c.IssuedAt, err = date(v)
		case "nonce":
			c.Nonce, err = str(v)
		case "azp":
			c.AuthorizedParty, err = str(v)
		case ClaimPrefix + "ctx":
			c.ContextIdentifier, err = str(v)
		case ClaimPrefix + "system_token":
			c.SystemUserToken, err = str(v)
		case ClaimPrefix + "webapi_url":
			c.WebAPIURL, err = str(v)
		case ClaimPrefix + "netserver_url":
			c.NetServerURL, err = str(v)
		case ClaimPrefix + "serial":
			c.Serial, err = str(v)
		case ClaimPrefix + "email":
			c.Email, err = str(v)
		case ClaimPrefix + "upn":
			c.UPN, err = str(v)
		case ClaimPrefix + "so_primary_email_address":
			c.PrimaryEmail, err = str(v)
		case ClaimPrefix + "company_name":
			c.CompanyName, err = str(v)
		case ClaimPrefix + "initials":
			c.Initials, err = str(v)
		case ClaimPrefix + "identityprovider":
			c.IdentityProvider, err = str(v)
		case ClaimPrefix + "associateid":
			err = c.AssociateID.set(v)
		case ClaimPrefix + "is_administrator":
			err = c.IsAdministrator.set(v)
		default:
			// Every exact name was taken above.
			if exact, ok := claimNames[strings.ToLower(name)]; ok {
				return nil, fmt.Errorf("claim %.80q is not %q", name, exact)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("claim %.80q: %w", name, err)
		}
	}
	return c, nil
}

// claimNames maps the lower case of every claim name typed reads to its
// exact spelling.
var claimNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"iss", "sub", "jti", "aud", "exp", "nbf", "iat", "nonce", "azp"} {
		m[n] = n
	}
	for _, n := range []string{"ctx", "system_token", "webapi_url", "netserver_url", "serial", "email", "upn",
		"so_primary_email_address", "company_name", "initials", "identityprovider", "associateid", "is_administrator"} {
		m[strings.ToLower(ClaimPrefix+n)] = ClaimPrefix + n
	}
	return m
}()

// stringBool is a boolean claim that SuperID sends as "True" or "False".
// It takes a JSON bool, or a string "true"/"false" in any case, "1"/"0",
// or "" (false: an empty claim grants nothing).
type stringBool bool

func (v *stringBool) set(claim any) error {
	switch c := claim.(type) {
	case nil:
		*v = false
		return nil
	case bool:
		*v = stringBool(c)
		return nil
	case string:
		switch s := strings.TrimSpace(c); {
		case strings.EqualFold(s, "true"), s == "1":
			*v = true
		case strings.EqualFold(s, "false"), s == "0", s == "":
			*v = false
		default:
			return fmt.Errorf("%.40q is not true or false", s)
		}
		return nil
	}
	return errors.New("not a boolean or a string")
}

// stringInt is an integer claim that SuperID sends as a string ("5"). It
// takes a JSON integer or a string holding one; "" is 0.
type stringInt int

func (v *stringInt) set(claim any) error {
	var s string
	switch c := claim.(type) {
	case nil:
		*v = 0
		return nil
	case float64:
		// encoding/json decoded the number as a float64; its shortest
		// spelling is an integer's only when it is one, in range.
		s = strconv.FormatFloat(c, 'f', -1, 64)
	case string:
		if s = strings.TrimSpace(c); s == "" {
			*v = 0
			return nil
		}
	default:
		return errors.New("not an integer or a string")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%.40q is not an integer", s)
	}
	*v = stringInt(n)
	return nil
}

func (c *idTokenClaims) claims(payload string) *Claims {
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
		payload:           payload,
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
