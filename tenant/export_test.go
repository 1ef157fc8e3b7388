package tenant

import (
	"encoding/json"
	"time"
)

// SetSystemUserClock replaces the clock of SystemUser credentials, so
// that tests can age a ticket without sleeping.
func SetSystemUserClock(c Credentials, now func() time.Time) {
	c.(*systemUserCreds).now = now
}

// DecodeContact decodes b as Client.decode does.
func DecodeContact(b []byte, c *Contact) error { return c.decodeJSON(b) }

// EncodeContact encodes c as Client.Do does.
func EncodeContact(c *Contact) ([]byte, error) { return c.encodeJSON() }

// reflectiveContact decodes as Contact did before its one-pass decoder.
type reflectiveContact Contact

func (c *reflectiveContact) UnmarshalJSON(b []byte) error {
	type plain Contact
	p, extra, err := decodeEntity[plain](b, contactFields)
	if err != nil {
		return err
	}
	p.Extra = extra
	*c = reflectiveContact(p)
	return nil
}

// UnmarshalContactReflective decodes b as Client.decode did before the
// one-pass decoder: json.Unmarshal, then the reflective decodeEntity.
// Benchmarks compare the two.
func UnmarshalContactReflective(b []byte, c *Contact) error {
	return json.Unmarshal(b, (*reflectiveContact)(c))
}
