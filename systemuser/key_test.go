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
	"encoding/xml"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// toXML writes k as .NET's RSA.ToXmlString(true) does, for the tests'
// input (the encoder partners use is cmd/so-keyconv's).
func toXML(t testing.TB, k *rsa.PrivateKey) []byte {
	t.Helper()
	k.Precompute()
	enc := func(x *big.Int) *string { s := base64.StdEncoding.EncodeToString(x.Bytes()); return &s }
	out, err := xml.Marshal(rsaKeyValue{
		Modulus: enc(k.N), Exponent: enc(big.NewInt(int64(k.E))), P: enc(k.Primes[0]), Q: enc(k.Primes[1]),
		DP: enc(k.Precomputed.Dp), DQ: enc(k.Precomputed.Dq), InverseQ: enc(k.Precomputed.Qinv), D: enc(k.D),
	})
	require.NoError(t, err)
	return out
}

func mustPEM(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// keyForms returns one key in every form ParsePrivateKey accepts.
func keyForms(t testing.TB, k *rsa.PrivateKey) map[string][]byte {
	t.Helper()
	xmlKey := toXML(t, k)
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
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
	require.NoError(t, err)
	return der
}

func TestParsePrivateKeyFormats(t *testing.T) {
	k := testKey()
	for name, data := range keyForms(t, k) {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrivateKey(data)
			require.NoError(t, err)
			assert.True(t, got.Equal(k), "parsed key differs from the original")
		})
	}
}

// DER is binary: a key whose encoding ends in a byte that looks like white
// space (about 6 in 256 keys) loads as any other.
func TestParseDERKeyEndingInWhiteSpaceByte(t *testing.T) {
	for i := 0; ; i++ {
		require.Less(t, i, 2000, "no key ending in a white-space byte in 2000 tries")
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		p1 := x509.MarshalPKCS1PrivateKey(k)
		if !bytes.ContainsAny(p1[len(p1)-1:], " \t\n\v\f\r") {
			continue
		}
		p8, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		for name, der := range map[string][]byte{"pkcs1": p1, "pkcs8": p8} {
			got, err := ParsePrivateKey(der)
			if assert.NoError(t, err, "%s DER ending in %#x", name, der[len(der)-1]) {
				assert.True(t, got.Equal(k), name)
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
		require.NoError(t, err, name)
		got, err := Sign(k, token, at)
		require.NoError(t, err, name)
		if want == "" {
			want, wantFrom = got, name
			continue
		}
		assert.Equal(t, want, got, "signature from %s differs from the one from %s", name, wantFrom)
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
		small, err = rsa.GenerateKey(rand.Reader, 512)
		require.NoError(t, err)
	})
	require.NotNil(t, small, "no small key")
	smallP8, err := x509.MarshalPKCS8PrivateKey(small)
	require.NoError(t, err)
	smallXML := toXML(t, small)

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
			require.Error(t, err, "ParsePrivateKey accepted it")
			assert.Nil(t, k)
			assert.ErrorIs(t, err, ErrInvalidKey)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "systemuser: "), "error %q lacks the package prefix", msg)
			assert.Contains(t, msg, tt.want)
			assert.Empty(t, base64Run.FindString(msg), "error %q quotes input-like data", msg)
		})
	}
}

func FuzzParsePrivateKey(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(f, err)
	for _, data := range keyForms(f, k) {
		f.Add(data)
	}
	f.Add([]byte("<RSAKeyValue><Modulus>AQAB</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			require.Nil(t, k, "key returned with an error")
			require.ErrorIs(t, err, ErrInvalidKey)
			return
		}
		require.GreaterOrEqual(t, k.N.BitLen(), 1024, "accepted a small key")
		require.NoError(t, k.Validate(), "accepted an invalid key")
	})
}

// TestOversizedPrimeFailsFast: a prime far longer than the modulus (a
// damaged or hostile 10 KB file) must be refused before Validate runs.
// Validate would first invert Q modulo that P, an exponentiation whose
// cost grows with the cube of P's size: minutes for a 60,000-bit P, which
// the test's own timeout would catch.
func TestOversizedPrimeFailsFast(t *testing.T) {
	k := testKey()
	huge := new(big.Int).Lsh(big.NewInt(1), 40_000)
	huge.Add(huge, big.NewInt(1)) // odd, as Validate's inversion requires
	xmlKey := toXML(t, k)
	p := base64.StdEncoding.EncodeToString(k.Primes[0].Bytes())
	bad := strings.Replace(string(xmlKey), "<P>"+p+"</P>", "<P>"+base64.StdEncoding.EncodeToString(huge.Bytes())+"</P>", 1)
	require.NotEqual(t, string(xmlKey), bad, "the test did not replace <P>")
	hand := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: []*big.Int{k.Primes[0], huge}}

	_, err := ParsePrivateKey([]byte(bad))
	assert.ErrorIs(t, err, ErrInvalidKey, "ParsePrivateKey xml")
	_, err = New(Config{Environment: "sod", ClientSecret: "s", PrivateKey: hand})
	assert.ErrorIs(t, err, ErrInvalidKey, "New")
}
