package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Progress shows how a worker is getting on. On a terminal it keeps one
// live line up to date (done, failed, remaining, rate), and log records
// written through it (use it as the log handler's writer) appear above
// that line instead of through it. Elsewhere (a pipe, a file, a log
// collector) it logs a progress record every Every instead.
type Progress struct {
	// Out is where the live line goes; nil: os.Stderr.
	Out io.Writer
	// Terminal selects the live line; see IsTerminal.
	Terminal bool
	// Logger receives the progress records when not on a terminal; nil:
	// none.
	Logger *slog.Logger
	// Every is how often progress is shown; 0: 200ms on a terminal, 10s
	// otherwise.
	Every time.Duration

	mu   sync.Mutex
	line string // the live line as last drawn
}

// IsTerminal reports whether f is a character device (a terminal), without
// needing a terminal library.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *Progress) out() io.Writer {
	if p.Out == nil {
		return os.Stderr
	}
	return p.Out
}

// Write writes a log record, above the live line when there is one.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.Terminal || p.line == "" {
		return p.out().Write(b)
	}
	// Clear the live line, write the record, draw the line again.
	if _, err := io.WriteString(p.out(), "\r\033[K"); err != nil {
		return 0, err
	}
	n, err := p.out().Write(b)
	if err == nil {
		_, err = io.WriteString(p.out(), p.line)
	}
	return n, err
}

// Watch shows stats() every Every until the returned stop is called; stop
// shows the last state and ends the live line.
func (p *Progress) Watch(stats func() Stats) (stop func()) {
	every := p.Every
	if every <= 0 {
		every = 10 * time.Second
		if p.Terminal {
			every = 200 * time.Millisecond
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.show(stats())
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			if p.Terminal {
				p.show(stats())
				p.mu.Lock()
				if p.line != "" {
					io.WriteString(p.out(), "\n")
					p.line = ""
				}
				p.mu.Unlock()
			}
		})
	}
}

func (p *Progress) show(s Stats) {
	if !p.Terminal {
		if p.Logger != nil && (s.Claimed > 0 || s.Due > 0) {
			p.Logger.LogAttrs(context.Background(), slog.LevelInfo, "progress",
				slog.Int64("done", s.OK), slog.Int64("failed", s.Failed+s.Deactivated),
				slog.Int64("rescheduled", s.Retried+s.Waiting), slog.Int64("remaining", s.Remaining()),
				slog.String("rate", fmt.Sprintf("%.1f/s", s.Rate())))
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line = "\r\033[K" + Line(s)
	io.WriteString(p.out(), p.line)
}

// Line is the one-line progress of a cycle:
// "done 812  failed 2  rescheduled 5  remaining 181  143.2 tenants/s".
func Line(s Stats) string {
	return fmt.Sprintf("done %d  failed %d  rescheduled %d  remaining %d  %.1f tenants/s",
		s.OK, s.Failed+s.Deactivated, s.Retried+s.Waiting, s.Remaining(), s.Rate())
}

// Summary is the report at the end of a cycle, several lines.
func Summary(s Stats) string {
	return fmt.Sprintf("cycle: %d tenants in %s (%.1f tenants/s)\n"+
		"  ok %d, failed %d, deactivated %d, retry later %d, waiting for the tenant %d\n"+
		"  released at shutdown %d, taken over by another instance %d, not recorded %d\n",
		s.Done(), s.Elapsed.Round(time.Millisecond), s.Rate(),
		s.OK, s.Failed, s.Deactivated, s.Retried, s.Waiting,
		s.Released, s.Lost, s.StoreErrors)
}
