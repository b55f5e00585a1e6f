// Package tenants reads, checks and writes the tenants file
// (docs/tenants-file.md) — the YAML that provisions clients and their keys, merchants,
// templates and users — and builds the demo tenant.
//
// It turns files into [ipass.Tenants] and back; storing them is the job of an
// [ipass.TenantStore].
package tenants

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ipass-dev/ipass"
	"go.yaml.in/yaml/v3"
)

// The file's shape. Field names are the contract of docs/tenants-file.md;
// decoding is strict, so a misspelt field is an error rather than a silently
// missing value.
type document struct {
	Clients   []client   `yaml:"clients,omitempty"`
	Merchants []merchant `yaml:"merchants,omitempty"`
	Templates []template `yaml:"templates,omitempty"`
	Users     []user     `yaml:"users,omitempty"`
}

// Optional scalar fields are pointers: a field left out of an entry keeps
// its stored value on apply, which a zero value could not tell apart from an
// explicit 0 or "".
type client struct {
	ClientID   string       `yaml:"clientId"`
	Name       *string      `yaml:"name,omitempty"`
	RateLimit  *wholeNumber `yaml:"rateLimit,omitempty"`
	HeaderCase *string      `yaml:"headerCase,omitempty"`
	// EncryptionKey: which server RSA key the client encrypts requests to.
	EncryptionKey *string `yaml:"encryptionKey,omitempty"`
	Keys          []key   `yaml:"keys,omitempty"`
}

type key struct {
	// A pointer, because 0 is a legal version and a forgotten keyVersion
	// must not quietly become it.
	KeyVersion    *wholeNumber `yaml:"keyVersion"`
	Algorithm     string       `yaml:"algorithm"`
	PublicKey     string       `yaml:"publicKey,omitempty"`
	PublicKeyFile string       `yaml:"publicKeyFile,omitempty"`
	Status        string       `yaml:"status,omitempty"`
}

type merchant struct {
	MerchantID string  `yaml:"merchantId"`
	ClientID   string  `yaml:"clientId"`
	Name       *string `yaml:"name,omitempty"`
}

type template struct {
	TemplateCode string            `yaml:"templateCode"`
	MerchantID   string            `yaml:"merchantId"`
	Type         string            `yaml:"type"`
	Product      string            `yaml:"product"`
	Title        map[string]string `yaml:"title,omitempty,flow"`
	Locales      []string          `yaml:"locales,flow"`
	Placeholders []placeholder     `yaml:"placeholders,flow"`
	Code         string            `yaml:"code,omitempty"`
	Style        map[string]string `yaml:"style,omitempty,flow"`
	// Labels: placeholder → locale → the label the wallet shows.
	Labels map[string]map[string]string `yaml:"labels,omitempty"`
}

// placeholder is one entry of a template's placeholders: a bare name (an
// untyped placeholder, as files before field types wrote it) or a mapping
// {name, type, place, labels}.
type placeholder struct {
	Name   string
	Type   string            // "" in a mapping: text
	Place  string            // face (the default) or detail
	Labels map[string]string // locale → label, as the template's labels
	typed  bool              // written as a mapping
}

// placeholderKeys are the fields of a placeholder mapping.
var placeholderKeys = []string{"name", "type", "place", "labels"}

func (p *placeholder) UnmarshalYAML(node *yaml.Node) error {
	*p = placeholder{}
	if node.Kind != yaml.MappingNode {
		return node.Decode(&p.Name)
	}
	p.typed = true
	// Checked by hand: the decoder's KnownFields does not reach a value
	// decoded here.
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i].Value, node.Content[i+1]
		var err error
		switch k {
		case "name":
			err = v.Decode(&p.Name)
		case "type":
			err = v.Decode(&p.Type)
		case "place":
			err = v.Decode(&p.Place)
		case "labels":
			err = v.Decode(&p.Labels)
		default:
			return fmt.Errorf("line %d: field %s not found in a placeholder (one of %s)", node.Content[i].Line, k, strings.Join(placeholderKeys, ", "))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p placeholder) MarshalYAML() (any, error) {
	if !p.typed {
		return p.Name, nil
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(k, v string) {
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	add("name", p.Name)
	add("type", p.Type)
	if p.Place != "" {
		add("place", p.Place)
	}
	return out, nil
}

type user struct {
	UserID  string            `yaml:"userId"`
	OpenIDs map[string]string `yaml:"openIds,omitempty"`
}

// Load reads the tenants file at path and parses it; relative publicKeyFile
// paths resolve against the file's folder.
func Load(path string) (*ipass.Tenants, error) {
	data, err := readCapped(path, MaxTenantsFileBytes)
	if err != nil {
		return nil, fmt.Errorf("read tenants file: %w", err)
	}
	return Parse(data, filepath.Dir(path))
}

// Parse decodes a tenants file, reads its publicKeyFile entries (relative
// ones against baseDir), fills defaults (key status active, template code
// QRCODE) and validates the result as [Validate] does. Keys come back as SPKI
// PEM whichever way they were written.
//
// Every error about the file's content is an *ipass.Error with code
// PARAM_ILLEGAL naming the entry and field; the result is nil then, so
// nothing of an invalid file can be applied.
func Parse(data []byte, baseDir string) (*ipass.Tenants, error) {
	doc, err := decode(data)
	if err != nil {
		return nil, err
	}
	t, sources, early, templateEarly := fromDocument(doc, baseDir)
	v := validator{keySources: sources, clientEarly: early, templateEarly: templateEarly}
	v.tenants(t)
	if err := v.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// yamlTypeNames turns the decoder's Go type names into the file's words.
var yamlTypeNames = strings.NewReplacer(
	"tenants.document", "the tenants file",
	"tenants.client", "a client",
	"tenants.key", "a key",
	"tenants.merchant", "a merchant",
	"tenants.template", "a template",
	"tenants.user", "a user",
)

func decode(data []byte) (*document, error) {
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, invalid(yamlTypeNames.Replace(strings.Join(te.Errors, "\n")))
		}
		return nil, invalid(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// A second document would be silently ignored; refuse it instead.
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, invalid("the tenants file holds more than one YAML document; put everything in one")
	}
	return &doc, nil
}

func invalid(msg string) error {
	return &ipass.Error{Code: ipass.CodeParamIllegal, Message: msg}
}

// fromDocument converts the file to domain values. Problems that only the
// file can have (missing keyVersion, both or neither of publicKey and
// publicKeyFile, an unreadable key file) go into the key sources, so they are
// reported in order with the rest by the validator.
func fromDocument(doc *document, baseDir string) (*ipass.Tenants, [][]keySource, [][]fieldProblem, [][]fieldProblem) {
	t := &ipass.Tenants{}
	var templateEarly [][]fieldProblem
	var sources [][]keySource
	var early [][]fieldProblem
	for _, c := range doc.Clients {
		ic := ipass.Client{ID: c.ClientID}
		if c.Name != nil {
			ic.Name = *c.Name
		} else {
			ic.Omitted = append(ic.Omitted, "name")
		}
		var ce []fieldProblem
		if c.RateLimit != nil {
			ic.RateLimit = c.RateLimit.int()
			if c.RateLimit.problem != "" {
				ce = append(ce, fieldProblem{"rateLimit", c.RateLimit.problem})
			}
		} else {
			ic.Omitted = append(ic.Omitted, "rateLimit")
		}
		if c.HeaderCase != nil {
			ic.HeaderCase = ipass.HeaderCase(*c.HeaderCase)
		} else {
			ic.Omitted = append(ic.Omitted, "headerCase")
		}
		if c.EncryptionKey != nil {
			ic.EncryptionKey = ipass.EncryptionKey(*c.EncryptionKey)
		} else {
			ic.Omitted = append(ic.Omitted, "encryptionKey")
		}
		early = append(early, ce)
		var cs []keySource
		for _, k := range c.Keys {
			ik, src := keyFromDocument(k, baseDir)
			ic.Keys = append(ic.Keys, ik)
			cs = append(cs, src)
		}
		t.Clients = append(t.Clients, ic)
		sources = append(sources, cs)
	}
	for _, m := range doc.Merchants {
		im := ipass.Merchant{ID: m.MerchantID, ClientID: m.ClientID}
		if m.Name != nil {
			im.Name = *m.Name
		} else {
			im.Omitted = []string{"name"}
		}
		t.Merchants = append(t.Merchants, im)
	}
	for _, tm := range doc.Templates {
		it := ipass.Template{
			Code:        tm.TemplateCode,
			MerchantID:  tm.MerchantID,
			Type:        ipass.PassType(tm.Type),
			Product:     ipass.Product(tm.Product),
			Title:       nilIfEmpty(tm.Title),
			Locales:     tm.Locales,
			CodeDisplay: ipass.CodeDisplay(tm.Code),
			Style:       nilIfEmpty(tm.Style),
			Labels:      nilIfEmpty(tm.Labels),
		}
		var te []fieldProblem
		it.Placeholders, it.Fields, it.Labels, te = placeholdersFromDocument(tm)
		templateEarly = append(templateEarly, te)
		// Left out: the stored value stays (QRCODE and no title or style
		// for a new template).
		if tm.Title == nil {
			it.Omitted = append(it.Omitted, "title")
		}
		if it.CodeDisplay == "" {
			it.CodeDisplay = ipass.CodeQR
			it.Omitted = append(it.Omitted, "code")
		}
		if tm.Style == nil {
			it.Omitted = append(it.Omitted, "style")
		}
		// Empty lists become nil so that a parsed file compares equal to
		// the parse of its own export.
		if len(it.Locales) == 0 {
			it.Locales = nil
		}
		if len(it.Placeholders) == 0 {
			it.Placeholders = nil
		}
		it.Labels = nilIfEmpty(it.Labels)
		t.Templates = append(t.Templates, it)
	}
	for _, u := range doc.Users {
		t.Users = append(t.Users, ipass.User{ID: u.UserID, OpenIDs: nilIfEmpty(u.OpenIDs)})
	}
	return t, sources, early, templateEarly
}

// placeholdersFromDocument splits a template's placeholder entries into
// names, field specs (for the entries written as mappings) and labels,
// which join the template's labels map; a label given both ways is a
// problem.
func placeholdersFromDocument(tm template) ([]string, map[string]ipass.FieldSpec, map[string]map[string]string, []fieldProblem) {
	var names []string
	var specs map[string]ipass.FieldSpec
	var problems []fieldProblem
	labels := tm.Labels // the document's own map: filling it changes nothing else
	for i, p := range tm.Placeholders {
		names = append(names, p.Name)
		if !p.typed {
			continue
		}
		typ := ipass.FieldType(p.Type)
		if typ == ipass.FieldUntyped {
			typ = ipass.FieldText
		}
		if specs == nil {
			specs = map[string]ipass.FieldSpec{}
		}
		specs[p.Name] = ipass.FieldSpec{Type: typ, Place: ipass.FieldPlace(p.Place)}
		for _, l := range slices.Sorted(maps.Keys(p.Labels)) {
			if _, twice := labels[p.Name][l]; twice {
				problems = append(problems, fieldProblem{fmt.Sprintf("placeholders[%d].labels[%s]", i, l), "is also given in the template's labels; give it once"})
				continue
			}
			if labels == nil {
				labels = map[string]map[string]string{}
			}
			if labels[p.Name] == nil {
				labels[p.Name] = map[string]string{}
			}
			labels[p.Name][l] = p.Labels[l]
		}
	}
	return names, specs, labels, problems
}

func keyFromDocument(k key, baseDir string) (ipass.ClientKey, keySource) {
	// A status left out keeps the stored one (active for a new key).
	ik := ipass.ClientKey{Algorithm: k.Algorithm, Status: ipass.KeyStatus(k.Status), PublicKey: k.PublicKey}
	src := keySource{field: "publicKey"}
	if k.KeyVersion == nil {
		src.early = append(src.early, fieldProblem{"keyVersion", "is missing (0 is a legal version; write it out)"})
	} else if k.KeyVersion.problem != "" {
		src.early = append(src.early, fieldProblem{"keyVersion", k.KeyVersion.problem})
	} else {
		ik.Version = k.KeyVersion.int()
	}
	switch {
	case k.PublicKey != "" && k.PublicKeyFile != "":
		src.early = append(src.early, fieldProblem{"publicKey", "and publicKeyFile are both given; give one"})
		src.noCheck = true
	case k.PublicKey == "" && k.PublicKeyFile == "" && ik.Status == ipass.KeyRetired:
		// Retiring a registered key needs no key material; Apply refuses
		// it if the key is not registered.
		src.noCheck = true
	case k.PublicKey == "" && k.PublicKeyFile == "":
		src.early = append(src.early, fieldProblem{"publicKey", "is missing; give publicKey (PEM or base64 DER) or publicKeyFile"})
		src.noCheck = true
	case k.PublicKeyFile != "":
		src.field, src.file = "publicKeyFile", k.PublicKeyFile
		path := k.PublicKeyFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		data, err := readCapped(path, MaxKeyFileBytes)
		if err != nil {
			src.early = append(src.early, fieldProblem{"publicKeyFile", err.Error()})
			src.noCheck = true
			break
		}
		ik.PublicKey = string(data)
	}
	// A key that does not parse keeps its text; the validator reports it.
	if !src.noCheck {
		if pem, err := normalKey(ik.PublicKey); err == nil {
			ik.PublicKey = pem
		}
	}
	return ik, src
}

func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Marshal writes t as a tenants file, keys inline as PEM, so the output
// stands alone (no key files) and Parse(Marshal(t)) equals t for any t that
// Parse returned. Defaults are written out. Marshal does not validate.
func Marshal(t *ipass.Tenants) ([]byte, error) {
	var doc document
	for _, c := range t.Clients {
		dc := client{ClientID: c.ID}
		if !slices.Contains(c.Omitted, "name") {
			dc.Name = &c.Name
		}
		if !slices.Contains(c.Omitted, "rateLimit") {
			dc.RateLimit = &wholeNumber{value: int64(c.RateLimit)}
		}
		if hc := string(c.HeaderCase); hc != "" && !slices.Contains(c.Omitted, "headerCase") {
			dc.HeaderCase = &hc
		}
		if ek := string(c.EncryptionKey); ek != "" && !slices.Contains(c.Omitted, "encryptionKey") {
			dc.EncryptionKey = &ek
		}
		for _, k := range c.Keys {
			text := k.PublicKey
			// Keys provisioned as base64 DER elsewhere are exported as PEM
			// too; a key that does not parse is written as it is.
			if pem, err := normalKey(text); err == nil {
				text = pem
			}
			v := wholeNumber{value: int64(k.Version)}
			dc.Keys = append(dc.Keys, key{KeyVersion: &v, Algorithm: k.Algorithm, PublicKey: text, Status: string(k.Status)})
		}
		doc.Clients = append(doc.Clients, dc)
	}
	for _, m := range t.Merchants {
		dm := merchant{MerchantID: m.ID, ClientID: m.ClientID}
		if !slices.Contains(m.Omitted, "name") {
			dm.Name = &m.Name
		}
		doc.Merchants = append(doc.Merchants, dm)
	}
	for _, tm := range t.Templates {
		doc.Templates = append(doc.Templates, template{
			TemplateCode: tm.Code,
			MerchantID:   tm.MerchantID,
			Type:         string(tm.Type),
			Product:      string(tm.Product),
			Title:        tm.Title,
			Locales:      tm.Locales,
			Placeholders: placeholdersToDocument(tm),
			Code:         codeUnlessOmitted(tm),
			Style:        tm.Style,
			Labels:       tm.Labels,
		})
	}
	for _, u := range t.Users {
		doc.Users = append(doc.Users, user{UserID: u.ID, OpenIDs: u.OpenIDs})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode tenants: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode tenants: %w", err)
	}
	return buf.Bytes(), nil
}

// placeholdersToDocument writes a template's placeholders: a bare name for
// an untyped one, a mapping for one with a field spec (its labels stay in
// the template's labels map).
func placeholdersToDocument(tm ipass.Template) []placeholder {
	out := make([]placeholder, 0, len(tm.Placeholders))
	for _, name := range tm.Placeholders {
		spec, typed := tm.Fields[name]
		out = append(out, placeholder{Name: name, Type: string(spec.Type), Place: string(spec.Place), typed: typed})
	}
	return out
}

func codeUnlessOmitted(tm ipass.Template) string {
	if slices.Contains(tm.Omitted, "code") {
		return ""
	}
	return string(tm.CodeDisplay)
}
