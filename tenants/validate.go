package tenants

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// Identifier limits of docs/api.md, "Limits". A longer id could be provisioned but
// never named in a request, so the file is the place to refuse it.
const (
	maxClientID     = 64
	maxMerchantID   = 64
	maxTemplateCode = 64
	maxLabel        = 64 // characters of a wallet field label
	maxUserID       = 32
	maxOpenID       = 32
	maxProblems     = 50 // beyond this the message says how many more; a wrong file shows its pattern long before
)

var (
	localeRE      = regexp.MustCompile(`^[a-z]{2}_[A-Z]{2}$`)
	placeholderRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// A style key names a colour; anything else is probably a typo that
	// strict YAML decoding cannot catch inside a map.
	styleKeyRE = regexp.MustCompile(`^[a-z][A-Za-z0-9]*Color$`)
)

// Validate checks the whole of t as one tenants file: every field of every
// entry, and duplicates within t. References to ids that t does not contain
// (a merchant's client, a template's merchant, an openId's merchant) are not
// checked here: they may already be stored, and the store checks them on
// Apply.
//
// The error is an *ipass.Error with code PARAM_ILLEGAL whose message lists
// every problem, one a line, each naming the entry and field, e.g.
//
//	clients[0] (2110200000000044).keys[1].algorithm: "RSA512" is not RSA256 or ECC224
func Validate(t *ipass.Tenants) error {
	var v validator
	v.tenants(t)
	return v.err()
}

// validator collects problems rather than stopping at the first, so one run
// shows everything wrong with a file.
type validator struct {
	problems []string
	// keySources, when set (by Parse), says per client and key where the key
	// text came from, so messages name the field the file used.
	keySources [][]keySource
	// clientEarly, when set (by Parse), holds per client the problems only
	// the file can have (a rateLimit that is not a whole number).
	clientEarly [][]fieldProblem
	// templateEarly, when set (by Parse), holds per template the problems
	// only the file can have (a label given twice).
	templateEarly [][]fieldProblem
}

// keySource is where one key's text came from in a tenants file.
type keySource struct {
	field   string         // "publicKey", or "publicKeyFile" for a key read from a file
	file    string         // the publicKeyFile as written, named in messages
	early   []fieldProblem // problems Parse found in this key, reported first
	noCheck bool           // the key text could not be obtained: skip checks on it
}

type fieldProblem struct{ field, msg string }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	list := v.problems
	if len(list) > maxProblems {
		list = append(list[:maxProblems:maxProblems], fmt.Sprintf("... and %d more problems", len(v.problems)-maxProblems))
	}
	return &ipass.Error{Code: ipass.CodeParamIllegal, Message: strings.Join(list, "\n")}
}

// entry names the i-th element of a list, with its id when it has one:
// clients[0] (2110200000000044).
func entry(list string, i int, id string) string {
	s := list + "[" + strconv.Itoa(i) + "]"
	if id != "" {
		s += " (" + show(id) + ")"
	}
	return s
}

// show prints a user-supplied value as is when that is unambiguous and quoted
// otherwise, so control characters never reach the terminal raw.
func show(s string) string {
	if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func (v *validator) tenants(t *ipass.Tenants) {
	clients := map[string]int{}
	for i := range t.Clients {
		v.client(i, &t.Clients[i], clients)
	}
	merchants := map[string]int{}
	for i, m := range t.Merchants {
		e := entry("merchants", i, m.ID)
		if v.id(e+".merchantId", m.ID, maxMerchantID) {
			if j, dup := seenAt(merchants, m.ID, i); dup {
				v.add(e+".merchantId", "duplicate of merchants[%d]", j)
			}
		}
		v.clientID(e+".clientId", m.ClientID)
		v.text(e+".name", m.Name)
	}
	type templateKey struct{ merchant, code string }
	templates := map[templateKey]int{}
	for i := range t.Templates {
		tm := &t.Templates[i]
		e := entry("templates", i, tm.Code)
		okCode := v.id(e+".templateCode", tm.Code, maxTemplateCode)
		okMerchant := v.id(e+".merchantId", tm.MerchantID, maxMerchantID)
		if okCode && okMerchant {
			if j, dup := seenAt(templates, templateKey{tm.MerchantID, tm.Code}, i); dup {
				v.add(e+".templateCode", "duplicate of templates[%d] (same merchant %s)", j, tm.MerchantID)
			}
		}
		if i < len(v.templateEarly) {
			for _, p := range v.templateEarly[i] {
				v.add(e+"."+p.field, "%s", p.msg)
			}
		}
		v.template(e, tm)
	}
	users := map[string]int{}
	type openIDKey struct{ merchant, openID string }
	openIDs := map[openIDKey]int{}
	for i, u := range t.Users {
		e := entry("users", i, u.ID)
		if v.id(e+".userId", u.ID, maxUserID) {
			if j, dup := seenAt(users, u.ID, i); dup {
				v.add(e+".userId", "duplicate of users[%d]", j)
			}
		}
		for _, m := range slices.Sorted(maps.Keys(u.OpenIDs)) {
			f := e + ".openIds[" + show(m) + "]"
			okMerchant := true
			if msg := idProblem(m, maxMerchantID); msg != "" {
				v.add(f, "merchantId %s", msg)
				okMerchant = false
			}
			openID := u.OpenIDs[m]
			if v.id(f, openID, maxOpenID) && okMerchant {
				if j, dup := seenAt(openIDs, openIDKey{m, openID}, i); dup {
					v.add(f, "openId %s at merchant %s is also users[%d]'s", show(openID), m, j)
				}
			}
		}
	}
}

// seenAt records that k is at index i, unless it was seen before: then it
// returns that earlier index and true.
func seenAt[K comparable](seen map[K]int, k K, i int) (int, bool) {
	if j, dup := seen[k]; dup {
		return j, true
	}
	seen[k] = i
	return 0, false
}

func (v *validator) client(i int, c *ipass.Client, seen map[string]int) {
	e := entry("clients", i, c.ID)
	if v.clientID(e+".clientId", c.ID) {
		if j, dup := seenAt(seen, c.ID, i); dup {
			v.add(e+".clientId", "duplicate of clients[%d]", j)
		}
	}
	v.text(e+".name", c.Name)
	var early []fieldProblem
	if i < len(v.clientEarly) {
		early = v.clientEarly[i]
	}
	for _, p := range early {
		v.add(e+"."+p.field, "%s", p.msg)
	}
	switch {
	case len(early) > 0:
	case c.RateLimit < 0:
		v.add(e+".rateLimit", "%d is negative (0 means unlimited)", c.RateLimit)
	case c.RateLimit > maxStoredInt:
		v.add(e+".rateLimit", "%d is larger than %d", c.RateLimit, maxStoredInt)
	}
	if c.HeaderCase != "" && c.HeaderCase != ipass.HeaderLower && c.HeaderCase != ipass.HeaderCanonical {
		v.add(e+".headerCase", "%q is not lower or canonical", c.HeaderCase)
	}
	if c.EncryptionKey != "" && c.EncryptionKey != ipass.EncryptionKeyDedicated && c.EncryptionKey != ipass.EncryptionKeySigning {
		v.add(e+".encryptionKey", "%q is not encryption or signing", c.EncryptionKey)
	}
	type keyID struct {
		algorithm string
		version   int
	}
	keys := map[keyID]int{}
	for j, k := range c.Keys {
		ke := e + ".keys[" + strconv.Itoa(j) + "]"
		src := keySource{field: "publicKey"}
		if i < len(v.keySources) && j < len(v.keySources[i]) {
			src = v.keySources[i][j]
		}
		for _, p := range src.early {
			v.add(ke+"."+p.field, "%s", p.msg)
		}
		if k.Version < 0 {
			v.add(ke+".keyVersion", "%d is negative", k.Version)
		}
		if k.Version > maxStoredInt {
			v.add(ke+".keyVersion", "%d is larger than %d", k.Version, maxStoredInt)
		}
		okAlg := k.Algorithm == ipass.AlgorithmRSA256 || k.Algorithm == ipass.AlgorithmECC224
		if !okAlg {
			v.add(ke+".algorithm", "%q is not RSA256 or ECC224", k.Algorithm)
		}
		if k.Status != "" && k.Status != ipass.KeyActive && k.Status != ipass.KeyRetired {
			v.add(ke+".status", "%q is not active or retired", k.Status)
		}
		if okAlg {
			if first, dup := seenAt(keys, keyID{k.Algorithm, k.Version}, j); dup {
				v.add(ke, "duplicate of keys[%d] (%s keyVersion %d)", first, k.Algorithm, k.Version)
			}
		}
		if !src.noCheck {
			v.keyText(ke, src, k, okAlg)
		}
	}
}

// keyText checks that the key parses, is of a usable size and is of the kind
// its algorithm names: an ECC224 entry holding an RSA key would verify no
// signature, and the mistake would surface only as INVALID_SIGNATURE.
func (v *validator) keyText(ke string, src keySource, k ipass.ClientKey, okAlg bool) {
	field := ke + "." + src.field
	prefix := ""
	if src.file != "" {
		prefix = src.file + ": "
	}
	if strings.TrimSpace(k.PublicKey) == "" {
		v.add(field, "%sis empty", prefix)
		return
	}
	// ParsePublicKey also enforces the sizes and curves of docs/api.md, "Request headers"
	// (RSA 2048–4096 bits, ECDSA P-224 only).
	pub, err := gateway.ParsePublicKey([]byte(k.PublicKey))
	if err != nil {
		v.add(field, "%s%v", prefix, err)
		return
	}
	alg, err := gateway.AlgorithmOf(pub)
	if err != nil {
		v.add(field, "%s%v", prefix, err)
		return
	}
	if okAlg && string(alg) != k.Algorithm {
		v.add(ke+".algorithm", "%q but the key is for %s", k.Algorithm, alg)
	}
}

func (v *validator) template(e string, tm *ipass.Template) {
	okType := ipass.ValidType(tm.Type)
	if !okType {
		v.add(e+".type", "%q is not CARD, COUPON or TICKET", tm.Type)
	} else if !ipass.ProductOfType(tm.Type, tm.Product) {
		v.add(e+".product", "%q is not a product of type %s", tm.Product, tm.Type)
	}
	locales := map[string]bool{}
	if len(tm.Locales) == 0 {
		v.add(e+".locales", "is empty; list at least one, e.g. [zh_HK, en_US]")
	}
	for i, l := range tm.Locales {
		f := e + ".locales[" + strconv.Itoa(i) + "]"
		switch {
		case !localeRE.MatchString(l):
			v.add(f, "%q is not a locale like zh_HK", l)
		case locales[l]:
			v.add(f, "%s is listed twice", l)
		}
		locales[l] = true
	}
	if len(tm.Placeholders) == 0 {
		v.add(e+".placeholders", "is empty; list the names the card face shows, e.g. [points, level]")
	}
	names := map[string]bool{}
	for i, p := range tm.Placeholders {
		f := e + ".placeholders[" + strconv.Itoa(i) + "]"
		switch {
		case !placeholderRE.MatchString(p):
			v.add(f, "%q is not a name matching [A-Za-z][A-Za-z0-9_]{0,63}", p)
		case names[p]:
			v.add(f, "%s is listed twice", p)
		}
		names[p] = true
	}
	switch tm.CodeDisplay {
	case ipass.CodeQR, ipass.CodeBarcode, ipass.CodeNone:
	default:
		v.add(e+".code", "%q is not QRCODE, BARCODE or NONE", tm.CodeDisplay)
	}
	for _, l := range slices.Sorted(maps.Keys(tm.Title)) {
		f := e + ".title[" + show(l) + "]"
		if !locales[l] {
			v.add(f, "locale %s is not in locales", show(l))
		}
		v.text(f, tm.Title[l])
	}
	v.fields(e, tm, names)
	v.labels(e, tm, names, locales)
	for _, k := range slices.Sorted(maps.Keys(tm.Style)) {
		f := e + ".style[" + show(k) + "]"
		if !styleKeyRE.MatchString(k) {
			v.add(f, "%q is not a colour name such as backgroundColor or foregroundColor", k)
		}
		// The wallet draws with the same rule (ipass.Colour).
		if c := tm.Style[k]; !ipass.IsColour(c) {
			v.add(f, "%q is not a colour like #1677FF or #FFF", c)
		}
	}
}

// id checks a required identifier: present, at most max characters, valid
// UTF-8 without control characters. It reports whether id is usable as a key
// for duplicate detection.
func (v *validator) id(path, id string, max int) bool {
	if msg := idProblem(id, max); msg != "" {
		v.add(path, "%s", msg)
		return false
	}
	return true
}

func idProblem(id string, max int) string {
	switch {
	case id == "":
		return "is empty"
	case !utf8.ValidString(id):
		return fmt.Sprintf("%q is not valid UTF-8", id)
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Sprintf("%q contains a control character", id)
	case utf8.RuneCountInString(id) > max:
		return fmt.Sprintf("%s is %d characters, more than %d", show(id), utf8.RuneCountInString(id), max)
	}
	return ""
}

// clientID checks a Client-Id: 1–64 visible ASCII characters, since it
// travels as an HTTP header value and must compare byte for byte.
func (v *validator) clientID(path, id string) bool {
	switch {
	case id == "":
		v.add(path, "is empty")
	case len(id) > maxClientID:
		v.add(path, "%s is %d characters, more than %d", show(id), len(id), maxClientID)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		v.add(path, "%q has a character that is not visible ASCII", id)
	default:
		return true
	}
	return false
}

// text checks an optional free-text field (names, titles).
func (v *validator) text(path, s string) {
	switch {
	case !utf8.ValidString(s):
		v.add(path, "%q is not valid UTF-8", s)
	case strings.ContainsFunc(s, unicode.IsControl):
		v.add(path, "%q contains a control character", s)
	}
}

// fields checks a template's field specs: each of a placeholder, with a
// known type and place.
func (v *validator) fields(e string, tm *ipass.Template, placeholders map[string]bool) {
	for i, name := range tm.Placeholders {
		spec, ok := tm.Fields[name]
		if !ok {
			continue
		}
		f := e + ".placeholders[" + strconv.Itoa(i) + "]"
		if !slices.Contains(ipass.FieldTypes, spec.Type) {
			v.add(f+".type", "%q is not one of %s", spec.Type, typeNames())
		}
		switch spec.Place {
		case "", ipass.PlaceFace, ipass.PlaceDetail:
		default:
			v.add(f+".place", "%q is not face or detail", spec.Place)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tm.Fields)) {
		if !placeholders[name] {
			v.add(e+".fields["+show(name)+"]", "%s is not in placeholders", show(name))
		}
	}
}

func typeNames() string {
	names := make([]string, len(ipass.FieldTypes))
	for i, t := range ipass.FieldTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// labels checks a template's wallet labels: each names a placeholder of the
// template and a locale of it, and is printable text of at most 64 characters.
func (v *validator) labels(e string, tm *ipass.Template, placeholders, locales map[string]bool) {
	for _, p := range slices.Sorted(maps.Keys(tm.Labels)) {
		f := e + ".labels[" + show(p) + "]"
		if !placeholders[p] {
			v.add(f, "%s is not in placeholders", show(p))
		}
		if len(tm.Labels[p]) == 0 {
			v.add(f, "is empty; give a label per locale, e.g. {zh_HK: 積分, en_US: Points}")
		}
		for _, l := range slices.Sorted(maps.Keys(tm.Labels[p])) {
			lf := f + "[" + show(l) + "]"
			if !locales[l] {
				v.add(lf, "locale %s is not in locales", show(l))
			}
			label := tm.Labels[p][l]
			if label == "" || utf8.RuneCountInString(label) > maxLabel {
				v.add(lf, "must be 1 to %d characters", maxLabel)
			}
			v.text(lf, label)
		}
	}
}
