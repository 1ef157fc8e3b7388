package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoSharesOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[int]
		var calls atomic.Int32
		release := make(chan struct{})
		fn := func(context.Context) (int, error) {
			calls.Add(1)
			<-release
			return 42, nil
		}
		var wg sync.WaitGroup
		results := make([]int, 5)
		for i := range results {
			wg.Go(func() {
				v, err := g.Do(t.Context(), "k", fn)
				assert.NoError(t, err)
				results[i] = v
			})
		}
		synctest.Wait() // every caller is waiting on the one call
		close(release)
		wg.Wait()
		assert.Equal(t, int32(1), calls.Load())
		assert.Equal(t, []int{42, 42, 42, 42, 42}, results)
	})
}

func TestCallerThatLeavesDoesNotHarmOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string]
		release := make(chan struct{})
		var fnCtxErr error
		fn := func(ctx context.Context) (string, error) {
			<-release
			fnCtxErr = ctx.Err()
			return "done", nil
		}
		leaving, leave := context.WithCancel(t.Context())
		var leftErr error
		var stayed string
		var wg sync.WaitGroup
		wg.Go(func() { _, leftErr = g.Do(leaving, "k", fn) })
		synctest.Wait()
		wg.Go(func() {
			var err error
			stayed, err = g.Do(t.Context(), "k", fn)
			assert.NoError(t, err)
		})
		synctest.Wait()
		leave()
		synctest.Wait()
		require.ErrorIs(t, leftErr, context.Canceled, "the caller that left returns at once")
		close(release)
		wg.Wait()
		assert.Equal(t, "done", stayed)
		assert.NoError(t, fnCtxErr, "fn does not see the first caller's cancellation")
	})
}

func TestDoneCtxIsRefusedBeforeAnyCall(t *testing.T) {
	var g Group[int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Do(ctx, "k", func(context.Context) (int, error) {
		assert.Fail(t, "fn called with a done ctx") // fn would run in its own goroutine: no FailNow there
		return 0, nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestErrorReachesEveryCaller(t *testing.T) {
	var g Group[int]
	boom := errors.New("boom")
	_, err := g.Do(t.Context(), "k", func(context.Context) (int, error) { return 0, boom })
	require.ErrorIs(t, err, boom)
}
