package tenants

import "github.com/ipass-dev/ipass/gateway"

// normalKey returns the key as SPKI PEM, the one form the store keeps, so an
// export is self-contained and compares equal however the key was written
// (PEM, PKCS#1, bare base64 DER, wrapped or not).
func normalKey(text string) (string, error) {
	pub, err := gateway.ParsePublicKey([]byte(text))
	if err != nil {
		return "", err
	}
	b, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
