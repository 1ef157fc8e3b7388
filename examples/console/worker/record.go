package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// success is a run that succeeded, on its way to the store.
type success struct {
	claim   store.Claim
	at      time.Time
	next    time.Time
	summary string
	wall    time.Time // when the run started, for its duration
}

// Successes are written in batches: one transaction for up to
// maxSuccessBatch runs, gathered for at most successLinger after the
// first. Committing one small write per tenant was the largest cost of a
// cycle after the RSA work; the linger is far below any lease.
const (
	maxSuccessBatch = 64
	successLinger   = 20 * time.Millisecond
)

// writeSuccesses writes the successes that arrive on in until it is
// closed.
func (w *Worker) writeSuccesses(in <-chan success, c *counters) {
	buf := make([]success, 0, maxSuccessBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range in {
		buf = append(buf[:0], first)
		linger.Reset(successLinger)
	gather:
		for len(buf) < maxSuccessBatch {
			select {
			case s, ok := <-in:
				if !ok {
					break gather
				}
				buf = append(buf, s)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		w.flushSuccesses(buf, c)
	}
}

func (w *Worker) flushSuccesses(buf []success, c *counters) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	items := make([]store.Success, len(buf))
	for i, s := range buf {
		items[i] = store.Success{Claim: s.claim, At: s.at, NextRun: s.next, Summary: s.summary}
	}
	errs, err := w.cfg.Store.CompleteSuccesses(ctx, items)
	if err != nil {
		// A batch is one transaction: one write the database refuses, or
		// one bad moment of it, would cost every run in the batch, and each
		// would run again when its lease ends (its intent keeps it from
		// creating its company twice, but the tenant waits for the lease).
		// Write them one by one in the time the batch had left.
		w.log.LogAttrs(ctx, slog.LevelWarn, "worker: recording a batch of runs failed; recording them one by one",
			slog.Int("runs", len(buf)), slog.String("err", err.Error()))
		errs = make([]error, len(items))
		for i, it := range items {
			errs[i] = w.cfg.Store.Complete(ctx, it.Claim, store.Result{At: it.At, NextRun: it.NextRun, Summary: it.Summary})
		}
	}
	for i, s := range buf {
		attrs := []slog.Attr{slog.String("context_id", s.claim.ContextIdentifier), slog.String("outcome", outcomeOK.String()),
			slog.Duration("took", time.Since(s.wall).Round(time.Microsecond))}
		switch {
		case errors.Is(errs[i], store.ErrLeaseLost):
			c.lost.Add(1)
			w.log.LogAttrs(ctx, slog.LevelWarn, "worker: lease lost; result discarded, the tenant's new owner runs it", attrs...)
		case errs[i] != nil:
			c.storeErrs.Add(1)
			w.log.LogAttrs(ctx, slog.LevelError, "worker: recording the run failed; the lease will run out and the tenant run again",
				append(attrs, slog.String("err", errs[i].Error()))...)
		default:
			c.add(outcomeOK)
			w.log.LogAttrs(ctx, slog.LevelDebug, "tenant done", append(attrs, slog.String("result", s.summary))...)
		}
	}
}
