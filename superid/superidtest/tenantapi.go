package superidtest

// tenantAPIState is filled in by its own issue's work.
type tenantAPIState struct{}

func (e *Emulator) tenantRoutes() {}
