package superidtest

// loginState is filled in by its own issue's work.
type loginState struct{}

func (e *Emulator) loginRoutes() {}

// accessTokenUserLocked returns the user an unexpired access token was
// issued to, or nil. e.mu must be held.
func (e *Emulator) accessTokenUserLocked(token string) *User { return nil }
