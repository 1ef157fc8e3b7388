package tenant

import "time"

// SetSystemUserClock replaces the clock of SystemUser credentials, so
// that tests can age a ticket without sleeping.
func SetSystemUserClock(c Credentials, now func() time.Time) {
	c.(*systemUserCreds).now = now
}

// PacerTenants is how many tenants p keeps pacing state for.
func PacerTenants(p *Pacer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tenants)
}
