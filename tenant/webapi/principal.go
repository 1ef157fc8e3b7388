package webapi

import "context"

// CurrentPrincipal calls GET v1/User/currentPrincipal: who the client's
// credentials act as (the system user, or the signed-in user), with the
// tenant's context identifier. The REST reference documents it as the
// identity check of an app.
func (s UserAgent) CurrentPrincipal(ctx context.Context) (*SoPrincipalCarrier, error) {
	return call[*SoPrincipalCarrier](ctx, s.c, "GET", "v1/User/currentPrincipal", nil, true)
}
