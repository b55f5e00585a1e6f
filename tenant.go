package ipass

// KeyStatus says whether a client key may verify signatures.
type KeyStatus string

// Key states. A retired key stays stored as history and answers KEY_NOT_FOUND.
const (
	KeyActive  KeyStatus = "active"
	KeyRetired KeyStatus = "retired"
)

// Signature algorithms, as canonical names.
const (
	AlgorithmRSA256 = "RSA256"
	AlgorithmECC224 = "ECC224"
)

// Client (ipass.Client, the domain record — not the SDK's client.Client) is a
// registered API caller: the holder of the keys that sign requests.
type Client struct {
	ID        string      // Client-Id header value, 1–64 visible ASCII
	Name      string      // operator-facing label
	RateLimit int         // requests per second; 0 = unlimited
	Keys      []ClientKey // every key ever registered, retired ones included
	// HeaderCase spells the protocol header names of responses to this
	// client: HeaderLower (the default) or HeaderCanonical.
	HeaderCase HeaderCase
	// EncryptionKey names the server RSA key this client wraps the AES key
	// of an encrypted request to: EncryptionKeyDedicated (the default) or
	// EncryptionKeySigning, for SDKs that know one server key only.
	EncryptionKey EncryptionKey
	// Omitted names the optional fields a tenants file left out of this
	// entry ("name", "rateLimit", "headerCase", "encryptionKey"): Apply keeps their stored
	// values, and a new client gets the defaults. nil means all were given.
	Omitted []string
}

// HeaderCase is how response protocol header names (Client-Id,
// Response-Time, Signature, Tracer-Id, Encrypt) are spelled on HTTP/1.1.
type HeaderCase string

// The header spellings. HTTP header names are case-insensitive, but some
// official SDKs compare them case-sensitively: the Antom Python SDK in lower
// case, the ZOLOZ Java SDK in canonical case.
const (
	HeaderLower     HeaderCase = "lower"     // signature, response-time, ...
	HeaderCanonical HeaderCase = "canonical" // Signature, Response-Time, ...
)

// EncryptionKey says which server RSA private key opens a client's
// encrypted requests.
type EncryptionKey string

// The encryption key choices. Signing exists for SDKs that take a single
// server public key and use it both to verify responses and to encrypt
// requests (the ZOLOZ Java SDK): the server's signing key then also
// decrypts, for that client only. One key for two purposes is weaker (see
// SECURITY.md), so it is opt-in per client.
const (
	EncryptionKeyDedicated EncryptionKey = "encryption" // the server's separate RSA encryption key
	EncryptionKeySigning   EncryptionKey = "signing"    // the server's RSA signing key
)

// ClientKey is one public key of a client, identified by (Algorithm, Version).
type ClientKey struct {
	Version   int       // keyVersion, ≥ 0
	Algorithm string    // AlgorithmRSA256 or AlgorithmECC224
	PublicKey string    // SPKI PEM text, or bare base64 DER, as provisioned; "" in a tenants file only to retire a stored key
	Status    KeyStatus // active or retired; "" in a tenants file: keep the stored status (active for a new key)
}

// ActiveKey returns the active key for (algorithm, version). With version < 0
// it returns the active key of that algorithm with the highest version.
func (c *Client) ActiveKey(algorithm string, version int) (ClientKey, bool) {
	var best ClientKey
	found := false
	for _, k := range c.Keys {
		if k.Algorithm != algorithm || k.Status != KeyActive {
			continue
		}
		if version >= 0 {
			if k.Version == version {
				return k, true
			}
			continue
		}
		if !found || k.Version > best.Version {
			best, found = k, true
		}
	}
	return best, found
}

// Merchant is a business that issues passes; exactly one client acts for it.
type Merchant struct {
	ID       string // merchantId
	ClientID string // the client allowed to act for this merchant
	Name     string
	Omitted  []string // optional fields a tenants file left out ("name"); see Client.Omitted
}

// CodeDisplay says how a template shows $codevalue$.
type CodeDisplay string

// The code displays. With NONE, codeInfo may hold empty strings.
const (
	CodeQR      CodeDisplay = "QRCODE"
	CodeBarcode CodeDisplay = "BARCODE"
	CodeNone    CodeDisplay = "NONE"
)

// Template is provisioned through the tenants file and fixes what a pass
// looks like and which dataInfo keys it accepts.
type Template struct {
	Code         string            // templateCode
	MerchantID   string            // owning merchant
	Type         PassType          // CARD, COUPON or TICKET
	Product      Product           // must be valid for Type (3.4)
	Title        map[string]string // locale → title
	Locales      []string          // e.g. zh_HK, en_US
	Placeholders []string          // names allowed as $name_locale$
	CodeDisplay  CodeDisplay       // QRCODE, BARCODE or NONE
	Style        map[string]string // e.g. backgroundColor, foregroundColor
	// Labels names the placeholders on the wallet's card face: placeholder →
	// locale → label. Optional; without one the placeholder name is shown.
	Labels map[string]map[string]string
	// Fields types and places placeholders: placeholder → spec. Optional;
	// a placeholder without one is untyped (any value, shown as written)
	// and shown on the face.
	Fields  map[string]FieldSpec
	Omitted []string // optional fields a tenants file left out ("title", "code", "style", "labels"); see Client.Omitted
}

// User is a wallet user. UserID resolves globally; an openId only within one merchant.
type User struct {
	ID      string            // userId
	OpenIDs map[string]string // merchantId → the openId this user has there
}

// Tenants is everything provisioning manages, as in the tenants file.
type Tenants struct {
	Clients   []Client
	Merchants []Merchant
	Templates []Template
	Users     []User
}
