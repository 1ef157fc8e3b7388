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

// UnmarshalContactTwice decodes b as Contact.UnmarshalJSON did before its
// Extra scan: the struct, then a map of every member. Benchmarks compare
// the two.
func UnmarshalContactTwice(b []byte, c *Contact) error {
	type plain Contact
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := extraFieldsMap(b, contactFields)
	if err != nil {
		return err
	}
	p.Extra = extra
	*c = Contact(p)
	return nil
}
