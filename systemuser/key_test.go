package systemuser

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// testKey is one 2048-bit key shared by the tests of this package, made
// once because generating it takes a while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func mustPEM(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// keyForms returns one key in every form ParsePrivateKey accepts.
func keyForms(t testing.TB, k *rsa.PrivateKey) map[string][]byte {
	t.Helper()
	xmlKey, err := EncodeXML(k)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p1 := x509.MarshalPKCS1PrivateKey(k)
	cert := selfSigned(t, k)
	return map[string][]byte{
		"xml": xmlKey,
		"xml-pretty-bom-crlf": append([]byte("\xef\xbb\xbf"), []byte(strings.NewReplacer(
			"><", ">\r\n  <",
		).Replace(string(xmlKey))+"\r\n")...),
		"pkcs1-pem":     mustPEM(t, "RSA PRIVATE KEY", p1),
		"pkcs8-pem":     mustPEM(t, "PRIVATE KEY", p8),
		"pkcs1-der":     p1,
		"pkcs8-der":     p8,
		"cert-then-key": append(mustPEM(t, "CERTIFICATE", cert), mustPEM(t, "PRIVATE KEY", p8)...),
		"text-around":   append([]byte("Bag Attributes\n  friendlyName: partner\n"), mustPEM(t, "PRIVATE KEY", p8)...),
		// Windows PowerShell 5.1's "$rsa.ToXmlString($true) > key.xml".
		"xml-utf16le-bom": utf16LE(t, string(xmlKey)+"\r\n"),
		// .NET's XmlDocument through a StringWriter, saved as UTF-8.
		"xml-declared-utf16": append([]byte(`<?xml version="1.0" encoding="utf-16"?>`+"\r\n"), xmlKey...),
	}
}

func utf16LE(t testing.TB, s string) []byte {
	t.Helper()
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func selfSigned(t testing.TB, k *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "partner"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParsePrivateKeyFormats(t *testing.T) {
	k := testKey()
	for name, data := range keyForms(t, k) {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrivateKey(data)
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !got.Equal(k) {
				t.Fatal("parsed key differs from the original")
			}
		})
	}
}

// DER is binary: a key whose encoding ends in a byte that looks like white
// space (about 6 in 256 keys) loads as any other.
func TestParseDERKeyEndingInWhiteSpaceByte(t *testing.T) {
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatal("no key ending in a white-space byte in 2000 tries")
		}
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		p1 := x509.MarshalPKCS1PrivateKey(k)
		if !bytes.ContainsAny(p1[len(p1)-1:], " \t\n\v\f\r") {
			continue
		}
		p8, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		for name, der := range map[string][]byte{"pkcs1": p1, "pkcs8": p8} {
			if got, err := ParsePrivateKey(der); err != nil || !got.Equal(k) {
				t.Errorf("%s DER ending in %#x: %v", name, der[len(der)-1], err)
			}
		}
		return
	}
}

// TestSignIdenticalAcrossFormats is the interoperability promise: a
// partner may hand over the portal's XML or an OpenSSL PEM of the same key
// and SuperID sees the same signed token.
func TestSignIdenticalAcrossFormats(t *testing.T) {
	at := time.Date(2025, 1, 31, 14, 5, 59, 0, time.UTC)
	const token = "SuperOffice DevNet Node OIDC-8k8Q7DmBgo"
	var want, wantFrom string
	for name, data := range keyForms(t, testKey()) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Sign(k, token, at)
		if err != nil {
			t.Fatalf("%s: Sign: %v", name, err)
		}
		if want == "" {
			want, wantFrom = got, name
			continue
		}
		if got != want {
			t.Errorf("signature from %s differs from the one from %s", name, wantFrom)
		}
	}
}

// base64Run finds long runs of base64 characters: an error message with one
// may be quoting key material.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/=]{16,}`)

func TestParsePrivateKeyErrors(t *testing.T) {
	k := testKey()
	forms := keyForms(t, k)
	xmlKey := string(forms["xml"])

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecSEC1, _ := x509.MarshalECPrivateKey(ecKey)
	ecP8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edP8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	pubPKIX, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pubP1 := x509.MarshalPKCS1PublicKey(&k.PublicKey)

	// A key under 1024 bits, which Go only generates when told to.
	var small *rsa.PrivateKey
	t.Run("generate-small", func(t *testing.T) {
		t.Setenv("GODEBUG", "rsa1024min=0")
		var err error
		if small, err = rsa.GenerateKey(rand.Reader, 512); err != nil {
			t.Fatal(err)
		}
	})
	if small == nil {
		t.Fatal("no small key")
	}
	smallP8, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	smallXML, err := EncodeXML(small)
	if err != nil {
		t.Fatal(err)
	}

	damaged := *k
	damaged.D = new(big.Int).Add(k.D, big.NewInt(2))
	damaged.Precomputed = rsa.PrecomputedValues{}
	damagedP1 := x509.MarshalPKCS1PrivateKey(&damaged)

	without := func(elem string) string {
		re := regexp.MustCompile(`<` + elem + `>[^<]*</` + elem + `>`)
		return re.ReplaceAllString(xmlKey, "")
	}
	replace := func(elem, val string) string {
		re := regexp.MustCompile(`<` + elem + `>[^<]*</` + elem + `>`)
		return re.ReplaceAllString(xmlKey, "<"+elem+">"+val+"</"+elem+">")
	}
	pemP1 := string(forms["pkcs1-pem"])

	tests := []struct {
		name string
		in   []byte
		want string // a fragment of the message
	}{
		{"empty", nil, "empty"},
		{"whitespace", []byte(" \n\t "), "empty"},
		{"garbage", []byte("hello, this is not a key"), "neither"},
		{"too-large", bytes.Repeat([]byte("A"), maxKeyData+1), "larger than 1 MiB"},
		{"encrypted-pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
			Bytes:   bytes.Repeat([]byte{1}, 64)}), "encrypted"},
		{"encrypted-pkcs8", mustPEM(t, "ENCRYPTED PRIVATE KEY", bytes.Repeat([]byte{1}, 64)), "encrypted"},
		{"ec-sec1", mustPEM(t, "EC PRIVATE KEY", ecSEC1), "EC key"},
		{"ec-pkcs8", mustPEM(t, "PRIVATE KEY", ecP8), "EC key"},
		{"ec-der", ecSEC1, "EC key"},
		{"ed25519", mustPEM(t, "PRIVATE KEY", edP8), "Ed25519"},
		{"openssh", []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"), "OpenSSH"},
		{"public-pkix", mustPEM(t, "PUBLIC KEY", pubPKIX), "public key"},
		{"public-pkcs1", mustPEM(t, "RSA PUBLIC KEY", pubP1), "public key"},
		{"public-der", pubPKIX, "public key"},
		{"certificate", mustPEM(t, "CERTIFICATE", selfSigned(t, k)), "certificate"},
		{"public-xml", []byte(regexp.MustCompile(`<(P|Q|D|DP|DQ|InverseQ)>[^<]*</[A-Za-z]+>`).ReplaceAllString(xmlKey, "")), "public key"},
		{"small-pkcs8", mustPEM(t, "PRIVATE KEY", smallP8), "512 bits"},
		{"small-pkcs1", mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "512 bits"},
		{"small-xml", smallXML, "512 bits"},
		{"truncated-pem", []byte(pemP1[:len(pemP1)/2]), "truncated"},
		{"truncated-pem-body", []byte(pemP1[:len(pemP1)/2] + "\n-----END RSA PRIVATE KEY-----\n"), "truncated"},
		{"truncated-der", forms["pkcs8-der"][:300], "not a valid"},
		{"truncated-xml", []byte(xmlKey[:len(xmlKey)/2]), "truncated"},
		{"xml-wrong-root", []byte("<KeyValue><Modulus>AQAB</Modulus></KeyValue>"), "not <RSAKeyValue>"},
		{"xml-not-xml", []byte("<<<>>>"), "not well-formed"},
		{"xml-no-modulus", []byte(without("Modulus")), "lacks <Modulus>"},
		{"xml-no-exponent", []byte(without("Exponent")), "lacks <Modulus> or <Exponent>"},
		{"xml-no-p", []byte(without("P")), "lacks <P>"},
		{"xml-no-q", []byte(without("Q")), "lacks <Q>"},
		{"xml-no-d", []byte(without("D")), "lacks <D>"},
		{"xml-bad-base64", []byte(replace("D", "not*base64!")), "<D> is not valid base64"},
		{"xml-empty-element", []byte(replace("Q", "")), "<Q> is empty"},
		{"xml-dp-mismatch", []byte(replace("DP", "AQAB")), "<DP> does not match"},
		{"xml-inconsistent", []byte(replace("D", "AQAB")), "consistency"},
		{"damaged-pkcs1", mustPEM(t, "RSA PRIVATE KEY", damagedP1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tt.in)
			if err == nil {
				t.Fatalf("ParsePrivateKey accepted it (%d bits)", k.N.BitLen())
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("error %q does not match ErrInvalidKey", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "systemuser: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
			if tt.want != "" && !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if m := base64Run.FindString(msg); m != "" {
				t.Errorf("error %q quotes input-like data %q", msg, m)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	k := testKey()
	xmlKey, err := EncodeXML(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, elem := range []string{"Modulus", "Exponent", "P", "Q", "DP", "DQ", "InverseQ", "D"} {
		if !bytes.Contains(xmlKey, []byte("<"+elem+">")) {
			t.Errorf("XML lacks <%s>", elem)
		}
	}
	p, err := ConvertToPEM(xmlKey)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(p)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("ConvertToPEM did not give a PKCS#8 PEM block")
	}
	back, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || !k.Equal(back) {
		t.Fatalf("PKCS#8 PEM does not hold the key: %v", err)
	}
	p1, err := EncodePKCS1PEM(k)
	if err != nil {
		t.Fatal(err)
	}
	back2, err := ParsePrivateKey(p1)
	if err != nil || !k.Equal(back2) {
		t.Fatalf("PKCS#1 PEM does not hold the key: %v", err)
	}
	if _, err := EncodeXML(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("EncodeXML(nil) = %v", err)
	}
	if _, err := EncodePEM(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("EncodePEM(nil) = %v", err)
	}
	if _, err := ConvertToPEM([]byte("junk")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("ConvertToPEM(junk) = %v", err)
	}
}

// Partial keys (a public key in a PrivateKey, missing D or primes) give
// ErrInvalidKey from every encoder, never a panic.
func TestEncodePartialKeys(t *testing.T) {
	k := testKey()
	bad := map[string]*rsa.PrivateKey{
		"zero":         {},
		"public only":  {PublicKey: k.PublicKey},
		"primes, no D": {PublicKey: k.PublicKey, Primes: k.Primes},
		"D, no primes": {PublicKey: k.PublicKey, D: k.D},
		"nil primes":   {PublicKey: k.PublicKey, D: k.D, Primes: []*big.Int{nil, nil}},
		"zero primes":  {PublicKey: k.PublicKey, D: k.D, Primes: []*big.Int{big.NewInt(0), big.NewInt(0)}},
		"no exponent":  {PublicKey: rsa.PublicKey{N: k.N}, D: k.D, Primes: k.Primes},
		"wrong D":      {PublicKey: k.PublicKey, D: big.NewInt(12345), Primes: k.Primes},
	}
	encoders := map[string]func(*rsa.PrivateKey) ([]byte, error){
		"EncodePEM": EncodePEM, "EncodePKCS1PEM": EncodePKCS1PEM, "EncodeXML": EncodeXML,
	}
	for kn, key := range bad {
		for en, enc := range encoders {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s(%s) panicked: %v", en, kn, r)
					}
				}()
				if out, err := enc(key); !errors.Is(err, ErrInvalidKey) || out != nil {
					t.Errorf("%s(%s) = %d bytes, %v; want ErrInvalidKey", en, kn, len(out), err)
				}
			}()
		}
	}
}

func FuzzParsePrivateKey(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	for _, data := range keyForms(f, k) {
		f.Add(data)
	}
	f.Add([]byte("<RSAKeyValue><Modulus>AQAB</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			if k != nil {
				t.Fatal("key returned with an error")
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %q does not match ErrInvalidKey", err)
			}
			return
		}
		if k.N.BitLen() < 1024 {
			t.Fatalf("accepted a %d-bit key", k.N.BitLen())
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("accepted an invalid key: %v", err)
		}
	})
}

// TestOversizedPrimeFailsFast: a prime far longer than the modulus (a
// damaged or hostile 10 KB file) must be refused at once. Validate would
// first invert Q modulo that P, an exponentiation whose cost grows with
// the cube of P's size: minutes for a 60,000-bit P.
func TestOversizedPrimeFailsFast(t *testing.T) {
	k := testKey()
	huge := new(big.Int).Lsh(big.NewInt(1), 40_000)
	huge.Add(huge, big.NewInt(1)) // odd, as Validate's inversion requires
	xmlKey, err := EncodeXML(k)
	if err != nil {
		t.Fatal(err)
	}
	p := base64.StdEncoding.EncodeToString(k.Primes[0].Bytes())
	bad := strings.Replace(string(xmlKey), "<P>"+p+"</P>", "<P>"+base64.StdEncoding.EncodeToString(huge.Bytes())+"</P>", 1)
	if bad == string(xmlKey) {
		t.Fatal("the test did not replace <P>")
	}
	hand := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: []*big.Int{k.Primes[0], huge}}

	for name, run := range map[string]func() error{
		"ParsePrivateKey xml": func() error { _, err := ParsePrivateKey([]byte(bad)); return err },
		"New": func() error {
			_, err := New(Config{Environment: "sod", ClientSecret: "s", PrivateKey: hand})
			return err
		},
	} {
		done := make(chan error, 1)
		go func() { done <- run() }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: error %v, want ErrInvalidKey", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still checking the key after 5s", name)
		}
	}
}
