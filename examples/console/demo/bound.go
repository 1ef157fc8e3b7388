package demo

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Cores is how many cores the process uses (GOMAXPROCS).
func Cores() int { return runtime.GOMAXPROCS(0) }

// Bound is what the RSA work of a first cycle allows on this machine.
type Bound struct {
	// Rate is tenants per second on every core: no cycle can beat it.
	Rate float64
	// CPU is the processor time one tenant's RSA work took while every
	// core was busy with it: the unit to set a cycle's CPU per tenant
	// against. It is measured under the same parallel load as a cycle,
	// which a single-threaded loop is not, and other processes' load on
	// the machine moves it less than it moves Rate.
	CPU time.Duration
}

// CryptoBound measures the RSA work of a first cycle for d on every core:
// per tenant one signature by the client (the signed system user token),
// one by SuperID (the system-user JWT) and one verification (of that
// signature). The overhead of everything else is the gap between a cycle
// and the bound. It returns the zero Bound if a key cannot be made.
func CryptoBound(bits int, d time.Duration) Bound {
	p, err := NewBoundProbe(bits)
	if err != nil {
		return Bound{}
	}
	return p.Measure(d)
}

// BoundProbe measures the bound again and again with one pair of keys, so
// that a benchmark can take it in short slices spread over a cycle: the
// machine's speed drifts by a tenth or more within a minute, and a bound
// taken only before and after a cycle is not taken in its seconds.
type BoundProbe struct {
	client, superID *rsa.PrivateKey
}

// NewBoundProbe makes the probe's keys, of bits each.
func NewBoundProbe(bits int) (*BoundProbe, error) {
	client, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	superID, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	return &BoundProbe{client: client, superID: superID}, nil
}

// Measure runs the bound's work for d on every core, as CryptoBound does.
func (p *BoundProbe) Measure(d time.Duration) Bound {
	var units atomic.Int64
	deadline := time.Now().Add(d)
	start, cpu0 := time.Now(), ProcessCPU()
	var wg sync.WaitGroup
	for range Cores() {
		wg.Go(func() {
			msg := []byte("Demo-0123456789.202501011200")
			for time.Now().Before(deadline) {
				h := sha256.Sum256(msg)
				if _, err := rsa.SignPKCS1v15(rand.Reader, p.client, crypto.SHA256, h[:]); err != nil {
					return
				}
				sig, err := rsa.SignPKCS1v15(rand.Reader, p.superID, crypto.SHA256, h[:])
				if err != nil {
					return
				}
				if rsa.VerifyPKCS1v15(&p.superID.PublicKey, crypto.SHA256, h[:], sig) != nil {
					return
				}
				units.Add(1)
			}
		})
	}
	wg.Wait()
	n := units.Load()
	if n == 0 {
		return Bound{}
	}
	return Bound{
		Rate: float64(n) / time.Since(start).Seconds(),
		CPU:  (ProcessCPU() - cpu0) / time.Duration(n),
	}
}

// ProcessCPU is the user and system CPU time the process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
