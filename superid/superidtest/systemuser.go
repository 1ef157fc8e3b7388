package superidtest

// systemUserState is filled in by its own issue's work.
type systemUserState struct{}

func (e *Emulator) systemUserRoutes() {}

// ticketLocked reports the tenant and app a live system user ticket was
// issued for, renewing its sliding expiry. e.mu must be held.
func (e *Emulator) ticketLocked(ticket string) (contextID, clientID string, ok bool) {
	return "", "", false
}
