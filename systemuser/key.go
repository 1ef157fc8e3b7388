package systemuser

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Key size limits. SuperOffice does not document the size its developer
// portal generates (a 1024-bit sample key is in circulation), and Go refuses
// to sign with anything smaller. The upper bound only keeps a hostile input
// from making Validate run for minutes.
const (
	minKeyBits = 1024
	maxKeyBits = 16384
	maxKeyData = 1 << 20
)

// keyError is a private key that cannot be used. Its message says why
// without quoting any of the input, which may be a real key.
type keyError struct{ msg string }

func (e *keyError) Error() string        { return "systemuser: private key: " + e.msg }
func (e *keyError) Is(target error) bool { return target == ErrInvalidKey }

func badKey(msg string) error { return &keyError{msg} }

// ParsePrivateKey reads the partner's RSA private key in any of the forms
// partners hold it: the .NET <RSAKeyValue> XML that the SuperOffice
// developer portal hands out, a PKCS#1 "RSA PRIVATE KEY" PEM block or a
// PKCS#8 "PRIVATE KEY" PEM block (the first private key block in a file that
// may also hold certificates), and the same two as bare DER. The format is
// detected from the content, not a file name; text may be UTF-8 or, as
// Windows tools write it, UTF-16 with a byte order mark.
//
// The key is checked (rsa.PrivateKey.Validate) before it is returned and
// must have at least 1024 bits. Every failure wraps ErrInvalidKey and says
// what is wrong (encrypted PEM, an EC key, a public key, a truncated file, a
// missing XML element...) without quoting the input.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	if len(data) > maxKeyData {
		return nil, badKey("input is larger than 1 MiB; that is not a key file")
	}
	data = fromUTF16(data)                                // PowerShell 5.1's "> key.xml"
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Windows editors write
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, badKey("input is empty")
	case trimmed[0] == '<':
		return parseXMLKey(trimmed)
	case bytes.Contains(data, []byte("-----BEGIN")):
		return parsePEMKey(data)
	case looksLikeDER(data):
		// Untrimmed: DER is binary, and its last byte may well be one
		// that TrimSpace takes for white space.
		return parseDERKey(data, "DER input")
	}
	return nil, badKey("input is neither <RSAKeyValue> XML, PEM nor DER")
}

// fromUTF16 returns data as UTF-8 when it starts with a UTF-16 byte order
// mark, and data itself otherwise.
func fromUTF16(data []byte) []byte {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		order = binary.LittleEndian
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		order = binary.BigEndian
	default:
		return data
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 2; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return []byte(string(utf16.Decode(units)))
}

// looksLikeDER reports whether b starts like an ASN.1 SEQUENCE, which every
// key encoding does.
func looksLikeDER(b []byte) bool { return len(b) > 2 && b[0] == 0x30 }

func parsePEMKey(data []byte) (*rsa.PrivateKey, error) {
	var sawPublic, sawCert bool
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			if _, enc := block.Headers["DEK-Info"]; enc || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, badKey("PEM block is encrypted; decrypt it first (openssl rsa -in key.pem -out plain.pem)")
			}
			return parseDERKey(block.Bytes, "PKCS#1 PEM block")
		case "PRIVATE KEY":
			return parseDERKey(block.Bytes, "PKCS#8 PEM block")
		case "ENCRYPTED PRIVATE KEY":
			return nil, badKey("PKCS#8 PEM block is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
		case "EC PRIVATE KEY":
			return nil, badKey("PEM block holds an EC key; SuperOffice needs an RSA key")
		case "OPENSSH PRIVATE KEY":
			return nil, badKey("OpenSSH key format is not supported; convert it to PEM (ssh-keygen -p -m PEM -f key)")
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			sawPublic = true
		case "CERTIFICATE":
			sawCert = true
		}
	}
	switch {
	case sawPublic:
		return nil, badKey("PEM holds a public key; signing needs the private key")
	case sawCert:
		return nil, badKey("PEM holds only a certificate (a public key); signing needs the private key")
	case bytes.Contains(data, []byte("-----BEGIN")):
		return nil, badKey("PEM data is truncated or damaged (no complete BEGIN/END block)")
	}
	return nil, badKey("PEM holds no private key block")
}

// parseDERKey reads PKCS#1 or PKCS#8 DER. The x509 errors are not passed
// on: they are about ASN.1 details a partner cannot act upon.
func parseDERKey(der []byte, what string) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return checkKey(k)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err == nil {
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return checkKey(k)
		case *ecdsa.PrivateKey:
			return nil, badKey(what + " holds an EC key; SuperOffice needs an RSA key")
		case ed25519.PrivateKey:
			return nil, badKey(what + " holds an Ed25519 key; SuperOffice needs an RSA key")
		default:
			return nil, badKey(what + " holds a key that is not RSA")
		}
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return nil, badKey(what + " holds an EC key; SuperOffice needs an RSA key")
	}
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return nil, badKey(what + " holds a public key; signing needs the private key")
	}
	if _, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return nil, badKey(what + " holds a public key; signing needs the private key")
	}
	if bits, ok := pkcs1ModulusBits(der); ok && bits < minKeyBits {
		return nil, tooSmall(bits)
	}
	return nil, badKey(what + " is not a valid PKCS#1 or PKCS#8 RSA key (truncated or damaged?)")
}

// pkcs1ModulusBits reads the modulus size of a PKCS#1 key that x509 refused,
// because since Go 1.24 it refuses keys under 1024 bits with a message that
// is not about the size.
func pkcs1ModulusBits(der []byte) (int, bool) {
	var k struct {
		Version               int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
		AdditionalPrimes      []asn1.RawValue `asn1:"optional,omitempty"`
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N == nil {
		// Maybe PKCS#8 around PKCS#1.
		var p8 struct {
			Version    int
			Algo       asn1.RawValue
			PrivateKey []byte
		}
		if _, err := asn1.Unmarshal(der, &p8); err != nil || len(p8.PrivateKey) == 0 {
			return 0, false
		}
		if _, err := asn1.Unmarshal(p8.PrivateKey, &k); err != nil || k.N == nil {
			return 0, false
		}
	}
	return k.N.BitLen(), true
}

func tooSmall(bits int) error {
	return badKey("RSA key has " + strconv.Itoa(bits) + " bits; at least 1024 are required (2048 recommended)")
}

// checkKey applies the rules every accepted key must pass, whatever its
// encoding.
func checkKey(k *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	bits := k.N.BitLen()
	switch {
	case bits < minKeyBits:
		return nil, tooSmall(bits)
	case bits > maxKeyBits:
		return nil, badKey("RSA key has " + strconv.Itoa(bits) + " bits; more than 16384 is not supported")
	case len(k.Primes) != 2:
		return nil, badKey("multi-prime RSA keys are not supported")
	}
	// Validate inverts Q modulo P before it compares P*Q with N, at a cost
	// that grows with the cube of P's size: bounding N alone let a 10 KB
	// file with a 60,000-bit P keep it busy for minutes. Primes longer
	// than N cannot be N's factors.
	for _, p := range k.Primes {
		if p == nil || p.Sign() <= 0 || p.BitLen() > bits {
			return nil, badKey("RSA key fails its consistency check (damaged or edited?)")
		}
	}
	if err := k.Validate(); err != nil {
		return nil, badKey("RSA key fails its consistency check (damaged or edited?)")
	}
	k.Precompute()
	return k, nil
}

// rsaKeyValue is the .NET RSA.ToXmlString(true) form. Element names are
// matched exactly, as .NET writes and reads them.
type rsaKeyValue struct {
	XMLName  xml.Name `xml:"RSAKeyValue"`
	Modulus  *string  `xml:"Modulus"`
	Exponent *string  `xml:"Exponent"`
	P        *string  `xml:"P"`
	Q        *string  `xml:"Q"`
	DP       *string  `xml:"DP"`
	DQ       *string  `xml:"DQ"`
	InverseQ *string  `xml:"InverseQ"`
	D        *string  `xml:"D"`
}

func parseXMLKey(data []byte) (*rsa.PrivateKey, error) {
	var v rsaKeyValue
	dec := xml.NewDecoder(bytes.NewReader(data))
	// .NET writes <?xml ... encoding="utf-16"?> from a StringWriter even
	// into a UTF-8 file, and a UTF-16 file is UTF-8 by now (fromUTF16).
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-16be", "unicode", "utf-8", "us-ascii":
			return in, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %.40q", label)
	}
	if err := dec.Decode(&v); err != nil {
		var se xml.UnmarshalError
		switch {
		case errors.As(err, &se):
			return nil, badKey("XML root element is not <RSAKeyValue>")
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, badKey("XML is truncated")
		}
		if strings.Contains(err.Error(), "expected element type <RSAKeyValue>") {
			return nil, badKey("XML root element is not <RSAKeyValue>")
		}
		return nil, badKey("XML is not well-formed (truncated or damaged?)")
	}
	if v.Modulus == nil || v.Exponent == nil {
		return nil, badKey("XML <RSAKeyValue> lacks <Modulus> or <Exponent>")
	}
	if v.D == nil && v.P == nil && v.Q == nil {
		return nil, badKey("XML <RSAKeyValue> is a public key (no <D>, <P>, <Q>); signing needs the private key")
	}
	for _, e := range []struct {
		name string
		v    *string
	}{{"P", v.P}, {"Q", v.Q}, {"D", v.D}} {
		if e.v == nil {
			return nil, badKey("XML <RSAKeyValue> lacks <" + e.name + ">")
		}
	}
	n, err := xmlInt("Modulus", *v.Modulus)
	if err != nil {
		return nil, err
	}
	e, err := xmlInt("Exponent", *v.Exponent)
	if err != nil {
		return nil, err
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return nil, badKey("XML <Exponent> is out of range")
	}
	d, err := xmlInt("D", *v.D)
	if err != nil {
		return nil, err
	}
	p, err := xmlInt("P", *v.P)
	if err != nil {
		return nil, err
	}
	q, err := xmlInt("Q", *v.Q)
	if err != nil {
		return nil, err
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	k, err = checkKey(k)
	if err != nil {
		return nil, err
	}
	// The CRT values are optional (.NET always writes them); when present
	// they must agree, or the file was damaged in a way Validate misses.
	for _, c := range []struct {
		name string
		v    *string
		want *big.Int
	}{{"DP", v.DP, k.Precomputed.Dp}, {"DQ", v.DQ, k.Precomputed.Dq}, {"InverseQ", v.InverseQ, k.Precomputed.Qinv}} {
		if c.v == nil {
			continue
		}
		got, err := xmlInt(c.name, *c.v)
		if err != nil {
			return nil, err
		}
		if got.Cmp(c.want) != 0 {
			return nil, badKey("XML <" + c.name + "> does not match the key (damaged or edited?)")
		}
	}
	return k, nil
}

// xmlInt decodes one element: standard base64 (line breaks and spaces
// allowed, as some tools wrap it) of an unsigned big-endian integer.
func xmlInt(name, s string) (*big.Int, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, badKey("XML <" + name + "> is empty")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, badKey("XML <" + name + "> is not valid base64 (truncated or damaged?)")
	}
	return new(big.Int).SetBytes(b), nil
}
