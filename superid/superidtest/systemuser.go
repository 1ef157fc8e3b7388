package superidtest

// systemUserState is filled in by its own issue's work.
type systemUserState struct{}

func (e *Emulator) systemUserRoutes() {}
