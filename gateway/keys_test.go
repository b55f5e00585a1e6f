package gateway

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

var keyNames = []string{
	"client-rsa-v1", "client-rsa-v2", "client-ec-p224",
	"server-rsa-sign", "server-ec-p224-sign", "server-rsa-enc",
}

// Every key of testdata reads in both of its forms, the two forms agree, and
// marshalling gives back the files byte for byte.
func TestKeyFiles(t *testing.T) {
	for _, name := range keyNames {
		t.Run(name, func(t *testing.T) {
			privPEM := mustPrivate(t, "keys/"+name+".key.pem")
			privB64 := mustPrivate(t, "keys/"+name+".key.b64")
			pubPEM := mustPublic(t, "keys/"+name+".pub.pem")
			pubB64 := mustPublic(t, "keys/"+name+".pub.b64")
			for _, k := range []crypto.PublicKey{privB64.Public(), pubPEM, pubB64} {
				if !privPEM.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k) {
					t.Errorf("forms of %s disagree", name)
				}
			}
			wantAlg := RSA256
			if strings.Contains(name, "-ec-") {
				wantAlg = ECC224
			}
			if alg, err := AlgorithmOf(pubPEM); alg != wantAlg || err != nil {
				t.Errorf("AlgorithmOf = %s, %v; want %s", alg, err, wantAlg)
			}

			gotPEM, err := MarshalPublicKeyPEM(pubPEM)
			if err != nil || !bytes.Equal(gotPEM, readTestdata(t, "keys/"+name+".pub.pem")) {
				t.Errorf("MarshalPublicKeyPEM = %s, %v; want the file", gotPEM, err)
			}
			gotB64, err := PublicKeyBase64(pubPEM)
			if err != nil || gotB64 != string(readTestdata(t, "keys/"+name+".pub.b64")) {
				t.Errorf("PublicKeyBase64 = %s, %v; want the file", gotB64, err)
			}
			gotKey, err := MarshalPrivateKeyPEM(privPEM)
			if err != nil || !bytes.Equal(gotKey, readTestdata(t, "keys/"+name+".key.pem")) {
				t.Errorf("MarshalPrivateKeyPEM differs from the file (%v)", err)
			}
			fp := Fingerprint(pubPEM)
			if len(fp) != len("SHA256:")+64 || !strings.HasPrefix(fp, "SHA256:") || fp != Fingerprint(privPEM.Public()) {
				t.Errorf("Fingerprint = %q", fp)
			}
		})
	}
}

// The damage keys suffer in consoles, YAML and environment variables.
func TestParseKeyTolerance(t *testing.T) {
	privPEM := string(readTestdata(t, "keys/client-rsa-v1.key.pem"))
	pubPEM := string(readTestdata(t, "keys/client-rsa-v1.pub.pem"))
	privB64 := string(readTestdata(t, "keys/client-rsa-v1.key.b64"))
	pubB64 := string(readTestdata(t, "keys/client-rsa-v1.pub.b64"))
	want := mustPublic(t, "keys/client-rsa-v1.pub.pem").(*rsa.PublicKey)

	oneLine := func(s string) string { return strings.ReplaceAll(s, "\n", "") }
	rewrap := func(s string, width int) string {
		var b strings.Builder
		for len(s) > width {
			b.WriteString(s[:width] + "\n")
			s = s[width:]
		}
		b.WriteString(s)
		return b.String()
	}
	body := func(pemText string) string { // base64 lines between the markers
		lines := strings.Split(strings.TrimSpace(pemText), "\n")
		return strings.Join(lines[1:len(lines)-1], "")
	}
	variants := []struct {
		name      string
		priv, pub string
	}{
		{"PEM", privPEM, pubPEM},
		{"CRLF", strings.ReplaceAll(privPEM, "\n", "\r\n"), strings.ReplaceAll(pubPEM, "\n", "\r\n")},
		{"SurroundingWhitespace", "\n\n  \t" + privPEM + "\n\n  ", "  " + pubPEM + "\t\n"},
		{"FlattenedOneLine", oneLine(privPEM), oneLine(pubPEM)},
		{"NoLineWraps", "-----BEGIN PRIVATE KEY-----\n" + body(privPEM) + "\n-----END PRIVATE KEY-----",
			"-----BEGIN PUBLIC KEY-----\n" + body(pubPEM) + "\n-----END PUBLIC KEY-----"},
		{"WrappedAt40", "-----BEGIN PRIVATE KEY-----\n" + rewrap(body(privPEM), 40) + "\n-----END PRIVATE KEY-----\n",
			"-----BEGIN PUBLIC KEY-----\n" + rewrap(body(pubPEM), 40) + "\n-----END PUBLIC KEY-----\n"},
		{"IndentedLines", strings.ReplaceAll(privPEM, "\n", "\n    "), strings.ReplaceAll(pubPEM, "\n", "\n    ")},
		{"Base64", privB64, pubB64},
		{"Base64Wrapped", rewrap(privB64, 64) + "\n", rewrap(pubB64, 76) + "\r\n"},
		{"Base64Unpadded", strings.TrimRight(privB64, "="), strings.TrimRight(pubB64, "=")},
		{"TextAroundPEM", "key for client 1:\n" + privPEM + "(end)\n", "# public\n" + pubPEM},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			priv, err := ParsePrivateKey([]byte(v.priv))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !want.Equal(priv.Public()) {
				t.Error("ParsePrivateKey: wrong key")
			}
			pub, err := ParsePublicKey([]byte(v.pub))
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if !want.Equal(pub) {
				t.Error("ParsePublicKey: wrong key")
			}
		})
	}
}

// PKCS#1 and SEC 1 forms, as `openssl genrsa` (1.x) and `openssl ecparam
// -genkey` write them.
func TestParseKeyFormats(t *testing.T) {
	rsaKey := mustPrivate(t, "keys/client-rsa-v1.key.pem").(*rsa.PrivateKey)
	ecKey := mustPrivate(t, "keys/client-ec-p224.key.pem").(*ecdsa.PrivateKey)
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	ecParams := pemOf("EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21}) // OID secp224r1

	privs := []struct {
		name string
		in   []byte
		want crypto.PublicKey
	}{
		{"PKCS1PEM", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), &rsaKey.PublicKey},
		{"PKCS1Base64", []byte(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(rsaKey))), &rsaKey.PublicKey},
		{"SEC1PEM", pemOf("EC PRIVATE KEY", ecDER), &ecKey.PublicKey},
		{"SEC1AfterECParameters", append(ecParams, pemOf("EC PRIVATE KEY", ecDER)...), &ecKey.PublicKey},
		{"SEC1Base64", []byte(base64.StdEncoding.EncodeToString(ecDER)), &ecKey.PublicKey},
	}
	for _, tt := range privs {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Error("wrong key")
			}
		})
	}
	pkcs1Pub := x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)
	for name, in := range map[string][]byte{
		"PKCS1PublicPEM":    pemOf("RSA PUBLIC KEY", pkcs1Pub),
		"PKCS1PublicBase64": []byte(base64.StdEncoding.EncodeToString(pkcs1Pub)),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParsePublicKey(in)
			if err != nil {
				t.Fatal(err)
			}
			if !rsaKey.PublicKey.Equal(k) {
				t.Error("wrong key")
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	spki := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	privPEM := readTestdata(t, "keys/client-rsa-v1.key.pem")
	pubPEM := readTestdata(t, "keys/client-rsa-v1.pub.pem")
	encrypted := []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	truncated := privPEM[:len(privPEM)/2]

	tests := []struct {
		name      string
		in        []byte
		isPrivate bool // which parser
		msg       string
	}{
		{"PrivEmpty", nil, true, "empty"},
		{"PrivBlank", []byte(" \r\n\t"), true, "empty"},
		{"PrivGarbage", []byte("not a key!"), true, "neither PEM nor base64"},
		{"PrivBase64NotDER", []byte("aGVsbG8gd29ybGQ="), true, "not a PKCS#8"},
		{"PrivGivenPublicPEM", pubPEM, true, "PUBLIC KEY"},
		{"PrivGivenPublicBase64", readTestdata(t, "keys/client-rsa-v1.pub.b64"), true, "got a public key"},
		{"PrivRSA1024", pkcs8(small), true, "1024 bits"},
		{"PrivP256", pkcs8(p256), true, "P-256"},
		{"PrivEd25519", pkcs8(edPriv), true, "unsupported key type"},
		{"PrivEncryptedPEM", encrypted, true, "encrypted"},
		{"PrivNoEndLine", truncated, true, "no END line"},
		{"PubEmpty", nil, false, "empty"},
		{"PubGivenPrivatePEM", privPEM, false, "PRIVATE KEY"},
		{"PubGivenPrivateBase64", readTestdata(t, "keys/client-rsa-v1.key.b64"), false, "got a private key"},
		{"PubRSA1024", spki(&small.PublicKey), false, "1024 bits"},
		{"PubP256", spki(&p256.PublicKey), false, "P-256"},
		{"PubEd25519", spki(edPriv.Public()), false, "unsupported key type"},
		{"PubMismatchedEndLine", []byte(strings.Replace(string(pubPEM), "END PUBLIC", "END PRIVATE", 1)), false, "no END line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.isPrivate {
				_, err = ParsePrivateKey(tt.in)
			} else {
				_, err = ParsePublicKey(tt.in)
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range []Algorithm{RSA256, ECC224} {
		t.Run(string(alg), func(t *testing.T) {
			key, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := AlgorithmOf(key.Public()); got != alg {
				t.Fatalf("AlgorithmOf = %s, want %s", got, alg)
			}
			privPEM, err := MarshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateKey(privPEM)
			if err != nil {
				t.Fatal(err)
			}
			pubB64, err := PublicKeyBase64(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicKey([]byte(pubB64))
			if err != nil {
				t.Fatal(err)
			}
			if Fingerprint(back.Public()) != Fingerprint(pub) {
				t.Error("round trip changed the key")
			}
			sig, err := Sign(back, alg, []byte("content"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(pub, alg, []byte("content"), sig); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := GenerateKey("ECC256"); err == nil {
		t.Error("GenerateKey(ECC256): no error")
	}
}

func TestAlgorithmOf(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaPriv := mustPrivate(t, "keys/client-rsa-v1.key.pem")
	tests := []struct {
		name string
		key  crypto.PublicKey
		want Algorithm
	}{
		{"RSA", mustPublic(t, "keys/client-rsa-v1.pub.pem"), RSA256},
		{"P224", mustPublic(t, "keys/client-ec-p224.pub.pem"), ECC224},
		{"P256", &p256.PublicKey, ""},
		{"Ed25519", edPub, ""},
		{"RSAPrivateKeyIsNotPublic", rsaPriv, ""},
		{"Nil", nil, ""},
	}
	for _, tt := range tests {
		got, err := AlgorithmOf(tt.key)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%s: AlgorithmOf = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := MarshalPublicKeyPEM(&p256.PublicKey); err == nil {
		t.Error("MarshalPublicKeyPEM(P-256): no error")
	}
	if Fingerprint(edPub) == "" {
		t.Error("Fingerprint(Ed25519) empty; any SPKI key has a fingerprint")
	}
}
