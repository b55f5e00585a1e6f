package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// The OpenAPI document, parsed once, and a validator over it. Validation
// is serialised: the suite's parallel subtests share one validator.
var (
	openAPIOnce  sync.Once
	openAPIModel *v3.Document
	openAPIVal   validator.Validator
	openAPIErr   error
	openAPIMu    sync.Mutex
)

func loadOpenAPI() (*v3.Document, validator.Validator, error) {
	openAPIOnce.Do(func() {
		doc, err := libopenapi.NewDocument(ipasshttp.OpenAPI())
		if err != nil {
			openAPIErr = err
			return
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			openAPIErr = err
			return
		}
		openAPIModel = &model.Model
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			openAPIErr = fmt.Errorf("validator: %v", errs)
			return
		}
		openAPIVal = v
	})
	return openAPIModel, openAPIVal, openAPIErr
}

var operationPaths = []string{ipasshttp.PathCreatePass, ipasshttp.PathUpdatePass, ipasshttp.PathQueryPass, ipasshttp.PathQueryPassHistory, ipasshttp.PathQueryRequestLog, ipasshttp.PathSandboxChaos, ipasshttp.PathSandboxClock}

// checkOpenAPI validates one received response against openapi.json: the
// operation's declared status, headers and body schema; for an encrypted
// response also the decrypted JSON; for a path or method the document
// does not declare, the NO_INTERFACE_DEF / METHOD_NOT_SUPPORTED response
// of its components. A mismatch fails the test.
func (h *harness) checkOpenAPI(method, path string, resp *http.Response, raw, plain []byte) {
	h.t.Helper()
	if problems := openAPIProblems(method, path, resp, raw, plain); len(problems) > 0 {
		h.t.Fatalf("%s %s: HTTP %d response does not match openapi.json:\n  %s\nbody: %s",
			method, path, resp.StatusCode, strings.Join(problems, "\n  "), plain)
	}
}

func openAPIProblems(method, path string, resp *http.Response, raw, plain []byte) []string {
	model, v, err := loadOpenAPI()
	if err != nil {
		return []string{"load openapi.json: " + err.Error()}
	}
	openAPIMu.Lock()
	defer openAPIMu.Unlock()
	if !slices.Contains(operationPaths, path) || method != http.MethodPost {
		name, status := "NO_INTERFACE_DEF", http.StatusNotFound
		if slices.Contains(operationPaths, path) {
			name, status = "METHOD_NOT_SUPPORTED", http.StatusMethodNotAllowed
		}
		if resp.StatusCode != status {
			return []string{fmt.Sprintf("undeclared %s %s answered HTTP %d; the document says %d (%s)", method, path, resp.StatusCode, status, name)}
		}
		r := model.Components.Responses.GetOrZero(name)
		for k := range r.Headers.FromOldest() {
			if hd := r.Headers.GetOrZero(k); hd.Required && resp.Header.Get(k) == "" {
				return []string{"missing required header " + k}
			}
		}
		schema := r.Content.GetOrZero("application/json").Schema.Schema()
		if ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaString(schema, string(plain)); !ok {
			return describe(errs)
		}
		return nil
	}
	check := func(body []byte, header http.Header) []string {
		req := httptest.NewRequest(method, path, nil)
		cp := &http.Response{StatusCode: resp.StatusCode, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
		if ok, errs := v.ValidateHttpResponse(req, cp); !ok {
			return describe(errs)
		}
		return nil
	}
	problems := check(raw, resp.Header)
	if resp.Header.Get("Encrypt") != "" {
		plainHeader := resp.Header.Clone()
		plainHeader.Set("Content-Type", "application/json; charset=UTF-8")
		problems = append(problems, check(plain, plainHeader)...)
	}
	return problems
}

func describe[E interface{ Error() string }](errs []E) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	if len(out) == 0 {
		out = []string{"invalid (no detail)"}
	}
	return out
}

// TestOpenAPIDocument: /openapi.json is valid OpenAPI 3.1, served as
// embedded, and names every operation and every result code the server has.
func TestOpenAPIDocument(t *testing.T) {
	model, v, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not valid OpenAPI 3.1:\n%s", strings.Join(describe(errs), "\n"))
	}
	if model.Version != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", model.Version)
	}
	var ops []string
	for _, p := range operationPaths {
		item := model.Paths.PathItems.GetOrZero(p)
		if item == nil || item.Post == nil {
			t.Fatalf("openapi.json has no POST %s", p)
		}
		ops = append(ops, item.Post.OperationId)
	}
	if fmt.Sprint(ops) != "[createPass updatePass queryPass queryPassHistory queryRequestLog sandboxChaos sandboxClock]" {
		t.Fatalf("operationIds %v", ops)
	}
	var enum []string
	for _, n := range model.Components.Schemas.GetOrZero("ResultCode").Schema().Enum {
		enum = append(enum, n.Value)
	}
	slices.Sort(enum)
	codes := make([]string, 0, len(ipass.AllCodes()))
	for _, c := range ipass.AllCodes() {
		codes = append(codes, string(c))
	}
	slices.Sort(codes)
	if !slices.Equal(enum, codes) {
		t.Fatalf("ResultCode enum %v\nserver codes     %v", enum, codes)
	}

	for name, open := range sqlstoretest.Engines(t) {
		if name != "sqlite" {
			continue // serving a file does not depend on the engine
		}
		h := newHarness(t, open(t))
		resp, err := http.Get(h.url + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, ipasshttp.OpenAPI()) || !json.Valid(body) ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET /openapi.json: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
}

// TestOpenAPICatchesDrift: the check that guards the suite fails on a
// response the document does not allow.
func TestOpenAPICatchesDrift(t *testing.T) {
	ok := `{"resultInfo":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"},"result":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"},"passId":"2025010112345678901234567890123"}`
	header := http.Header{
		"Content-Type": {"application/json; charset=UTF-8"}, "Response-Time": {"2025-01-01T00:00:00.000Z"},
		"Signature": {"algorithm=RSA256,keyVersion=1,signature=abc"}, "Tracer-Id": {"0123456789abcdef0123456789abcdef"},
	}
	resp := func(status int, h http.Header) *http.Response { return &http.Response{StatusCode: status, Header: h} }
	if p := openAPIProblems("POST", ipasshttp.PathCreatePass, resp(200, header), []byte(ok), []byte(ok)); len(p) > 0 {
		t.Fatalf("valid createPass answer refused: %v", p)
	}
	noTracer := header.Clone()
	noTracer.Del("Tracer-Id")
	cases := []struct {
		name   string
		status int
		header http.Header
		path   string
		body   string
	}{
		{"passId on a failure", 200, header, ipasshttp.PathCreatePass, strings.ReplaceAll(strings.ReplaceAll(ok, `"S"`, `"F"`), "SUCCESS", "PARAM_ILLEGAL")},
		{"no passId on SUCCESS", 200, header, ipasshttp.PathCreatePass, strings.Split(ok, `,"passId"`)[0] + "}"},
		{"unknown field", 200, header, ipasshttp.PathUpdatePass, strings.Replace(ok, `"passId"`, `"extra"`, 1)},
		{"status S with a failure code", 200, header, ipasshttp.PathUpdatePass, strings.Replace(strings.Split(ok, `,"passId"`)[0]+"}", `"SUCCESS"`, `"PARAM_ILLEGAL"`, 2)},
		{"undeclared HTTP status", 404, header, ipasshttp.PathUpdatePass, strings.Split(ok, `,"passId"`)[0] + "}"},
		{"missing Tracer-Id", 200, noTracer, ipasshttp.PathCreatePass, ok},
		{"wrong code for 404", 404, header, "/nowhere", strings.Split(ok, `,"passId"`)[0] + "}"},
	}
	for _, c := range cases {
		if p := openAPIProblems("POST", c.path, resp(c.status, c.header), []byte(c.body), []byte(c.body)); len(p) == 0 {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
