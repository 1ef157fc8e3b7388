package superidtest

// loginState is filled in by its own issue's work.
type loginState struct{}

func (e *Emulator) loginRoutes() {}
