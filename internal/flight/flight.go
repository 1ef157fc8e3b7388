// Package flight is the one way the SDK lets many callers wait for one
// fetch: the key set's refresh, a tenant's ticket exchange, a tenant's
// state lookup.
//
// The rule for a caller that leaves: it returns at once with its ctx's
// error, and the others are not harmed. The fetch runs on a goroutine of
// its own under a ctx that keeps the first caller's values but not its
// cancellation, so it ends when fn's own bound (a timeout the caller puts
// in fn) ends it, and every caller still waiting gets its result.
package flight

import (
	"context"

	"golang.org/x/sync/singleflight"
)

// Group collapses concurrent calls with the same key into one. The zero
// value is ready to use.
type Group[T any] struct {
	g singleflight.Group
}

// Do calls fn once for all callers that ask for key while it runs, and
// returns its result, or ctx's error as soon as ctx ends. fn gets a ctx
// detached from ctx's cancellation (see the package doc), so fn must bound
// itself, with context.WithTimeout say.
func (g *Group[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	detached := context.WithoutCancel(ctx)
	ch := g.g.DoChan(key, func() (any, error) { return fn(detached) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		v, _ := r.Val.(T)
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Forget makes the next Do for key start a new call instead of joining
// the one under way.
func (g *Group[T]) Forget(key string) { g.g.Forget(key) }
