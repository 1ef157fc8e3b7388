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

// CryptoBound measures how many tenants per second the RSA work of a first
// cycle allows on this machine, using every core for d: per tenant one
// signature by the client (the signed system user token), one by SuperID
// (the system-user JWT) and one verification (of that signature). No
// cycle can beat it; the overhead of everything else is the gap.
func CryptoBound(bits int, d time.Duration) float64 {
	client, err1 := rsa.GenerateKey(rand.Reader, bits)
	superID, err2 := rsa.GenerateKey(rand.Reader, bits)
	if err1 != nil || err2 != nil {
		return 0
	}
	var units atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range Cores() {
		wg.Go(func() {
			msg := []byte("Demo-0123456789.202501011200")
			for time.Now().Before(deadline) {
				h := sha256.Sum256(msg)
				if _, err := rsa.SignPKCS1v15(rand.Reader, client, crypto.SHA256, h[:]); err != nil {
					return
				}
				sig, err := rsa.SignPKCS1v15(rand.Reader, superID, crypto.SHA256, h[:])
				if err != nil {
					return
				}
				if rsa.VerifyPKCS1v15(&superID.PublicKey, crypto.SHA256, h[:], sig) != nil {
					return
				}
				units.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(units.Load()) / time.Since(start).Seconds()
}

// CryptoCPU is the CPU time one tenant's RSA work takes on one core (the
// average of n rounds): the unit of CryptoBound.
func CryptoCPU(bits, n int) time.Duration {
	client, err1 := rsa.GenerateKey(rand.Reader, bits)
	superID, err2 := rsa.GenerateKey(rand.Reader, bits)
	if err1 != nil || err2 != nil || n <= 0 {
		return 0
	}
	h := sha256.Sum256([]byte("Demo-0123456789.202501011200"))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for range n {
		rsa.SignPKCS1v15(rand.Reader, client, crypto.SHA256, h[:])
		sig, _ := rsa.SignPKCS1v15(rand.Reader, superID, crypto.SHA256, h[:])
		rsa.VerifyPKCS1v15(&superID.PublicKey, crypto.SHA256, h[:], sig)
	}
	return (threadCPU() - start) / time.Duration(n)
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
