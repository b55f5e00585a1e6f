package client_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

func memberCard(bizSerialID string) *client.CreatePassRequest {
	return &client.CreatePassRequest{
		MerchantID:   merchantA,
		UserID:       user1,
		TemplateCode: tmplMember,
		BizSerialID:  bizSerialID,
		StartDate:    1735689600000,
		EndDate:      4102444800000,
		BizCreate:    1735689600000,
		Type:         ipass.TypeCard,
		Product:      ipass.ProductMemberCard,
		CodeInfo:     &client.CodeInfo{Msg: "81399940", Value: "81399940"},
		DataInfo: client.DataInfo{
			"$points_zh_HK$": 100, "$points_en_US$": 100,
			"$level_zh_HK$": "銀卡", "$level_en_US$": "Silver Card",
		},
	}
}

func pointsUpdate(passID string, points int) *client.UpdatePassRequest {
	return &client.UpdatePassRequest{
		MerchantID:       merchantA,
		UserID:           user1,
		PassID:           passID,
		Status:           ipass.RequestUpdate,
		UpdateDetailType: ipass.UpdateMemberCard,
		DataInfo: client.DataInfo{
			"$points_zh_HK$": points, "$points_en_US$": points,
			"billNo": "220230343242343442422333222", "lastChangedPoints": "19899", "pointsProvider": "ALIPAYHK",
		},
	}
}

// createUpdateQuery runs the member-card life cycle through c and checks
// what the server stored.
func createUpdateQuery(t *testing.T, c *client.Client, wantEncrypted bool) {
	t.Helper()
	ctx := context.Background()
	created, err := c.CreatePass(ctx, memberCard("M-0001"))
	if err != nil {
		t.Fatalf("CreatePass: %v", err)
	}
	if created.PassID == "" || created.Response.Result.Code != ipass.CodeSuccess || !created.Response.Verified {
		t.Fatalf("CreatePass = %+v, result %+v", created, created.Response.Result)
	}
	if got := created.Response.Encrypted; got != wantEncrypted {
		t.Errorf("createPass response Encrypted = %v, want %v", got, wantEncrypted)
	}
	// An identical retried create is SUCCESS with the same passId (4.4).
	again, err := c.CreatePass(ctx, memberCard("M-0001"))
	if err != nil || again.PassID != created.PassID {
		t.Fatalf("retried CreatePass = %v, %v; want passId %s", again, err, created.PassID)
	}

	if _, err := c.UpdatePass(ctx, pointsUpdate(created.PassID, 19999)); err != nil {
		t.Fatalf("UpdatePass: %v", err)
	}
	q, err := c.QueryPass(ctx, &client.QueryPassRequest{MerchantID: merchantA, PassID: created.PassID})
	if err != nil {
		t.Fatalf("QueryPass: %v", err)
	}
	p := q.Pass
	if p.PassID != created.PassID || p.Status != ipass.StatusActive || p.Version != 2 || p.BizSerialID != "M-0001" {
		t.Errorf("pass = %+v; want ACTIVE version 2", p)
	}
	if got := string(p.DataInfo["$points_en_US$"]); got != "19999" {
		t.Errorf("$points_en_US$ = %s, want 19999", got)
	}
	if got := string(p.DataInfo["$level_zh_HK$"]); got != `"銀卡"` {
		t.Errorf("$level_zh_HK$ = %s, want \"銀卡\" (kept by the merge)", got)
	}
	if _, ok := p.DataInfo["billNo"]; ok {
		t.Error("metadata billNo returned in dataInfo")
	}
	if p.CodeInfo.Value != "81399940" {
		t.Errorf("codeInfo = %+v", p.CodeInfo)
	}

	// The history, a page at a time: the create, then the points update.
	h, err := c.QueryPassHistory(ctx, &client.QueryPassHistoryRequest{MerchantID: merchantA, PassID: created.PassID, PageSize: 1})
	if err != nil || h.PassID != created.PassID || h.LatestVersion != 2 || len(h.Versions) != 1 ||
		h.Versions[0].Operation != "createPass" || h.NextFromVersion != 2 || !h.Response.Verified {
		t.Fatalf("QueryPassHistory page 1 = %+v, %v", h, err)
	}
	h, err = c.QueryPassHistory(ctx, &client.QueryPassHistoryRequest{MerchantID: merchantA, BizSerialID: "M-0001", FromVersion: h.NextFromVersion})
	if err != nil || len(h.Versions) != 1 || h.NextFromVersion != 0 || h.Versions[0].Version != 2 ||
		h.Versions[0].TracerID == "" || len(h.Versions[0].Changes) == 0 || h.Versions[0].Changes[0].Field != "dataInfo.$points_en_US$" ||
		string(h.Versions[0].Changes[0].To) != "19999" {
		t.Fatalf("QueryPassHistory page 2 = %+v, %v", h, err)
	}

	// A business failure is a *ResultError with the verified response, and
	// is not retried.
	_, err = c.UpdatePass(ctx, pointsUpdate("2995228480402564890099", 1))
	var re *client.ResultError
	if !errors.As(err, &re) {
		t.Fatalf("update of unknown pass: %v, want *ResultError", err)
	}
	if re.ResultStatus != "F" || re.ResultCode != ipass.CodePassHasNotExist || re.Attempts != 1 ||
		re.TracerID == "" || re.Response == nil || !strings.Contains(re.ResultMessage, "passId") {
		t.Errorf("ResultError = %+v", re)
	}
	if re.Response.Encrypted != wantEncrypted {
		t.Errorf("failure response Encrypted = %v, want %v", re.Response.Encrypted, wantEncrypted)
	}
}

func TestCreateUpdateQuery(t *testing.T) {
	k := mustKeys(t)
	for _, tc := range []struct {
		name string
		edit func(*client.Config)
	}{
		{"RSA256", nil},
		{"ECC224", func(c *client.Config) { c.PrivateKey = k.clientECC }},
		{"RSA256/epoch-ms-time", func(c *client.Config) { c.RequestTimeMillis = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startServer(t, k)
			createUpdateQuery(t, newClient(t, url, k, tc.edit), false)
		})
	}
}

func TestEncryptedCalls(t *testing.T) {
	k := mustKeys(t)
	enc := &client.Encryption{ServerKey: &k.serverEnc.PublicKey, KeyVersion: 1}
	for _, tc := range []struct {
		name string
		edit func(*client.Config)
	}{
		{"RSA256", func(c *client.Config) { c.Encryption = enc }},
		{"RSA256/AES-128", func(c *client.Config) {
			c.Encryption = &client.Encryption{ServerKey: &k.serverEnc.PublicKey, KeyVersion: 1, AESKeySize: 16}
		}},
		{"ECC224", func(c *client.Config) {
			// Responses are encrypted to the client's RSA key even when it
			// signs with ECC224 (spec 2.6).
			c.PrivateKey, c.Encryption, c.DecryptionKey = k.clientECC, enc, k.clientRSA.(*rsa.PrivateKey)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startServer(t, k)
			createUpdateQuery(t, newClient(t, url, k, tc.edit), true)
		})
	}
}

// TestTicketEmptyDataInfo checks that DataInfo{} is sent as {} (a TICKET
// UPDATE requires dataInfo, even when the change is in codeInfo).
func TestTicketEmptyDataInfo(t *testing.T) {
	k := mustKeys(t)
	c := newClient(t, startServer(t, k), k, nil)
	ctx := context.Background()
	created, err := c.CreatePass(ctx, &client.CreatePassRequest{
		MerchantID: merchantA, UserID: user2, TemplateCode: tmplTicket, BizSerialID: "T-1",
		StartDate: 1735689600000, EndDate: 4102444800000, BizCreate: 1735689600000,
		CodeInfo: &client.CodeInfo{Msg: "1", Value: "1"},
		DataInfo: client.DataInfo{"$availableTimes_zh_HK$": 2, "$availableTimes_en_US$": 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdatePass(ctx, &client.UpdatePassRequest{
		MerchantID: merchantA, UserID: user2, PassID: created.PassID,
		Status: ipass.RequestUpdate, UpdateDetailType: ipass.UpdatePass, BizDate: time.Now().UnixMilli(),
		DataInfo: client.DataInfo{}, CodeInfo: &client.CodeInfo{Msg: "2", Value: "2"},
	})
	if err != nil {
		t.Fatalf("UpdatePass with dataInfo {}: %v", err)
	}
	q, err := c.QueryPass(ctx, &client.QueryPassRequest{MerchantID: merchantA, BizSerialID: "T-1", UserID: user2})
	if err != nil {
		t.Fatal(err)
	}
	if q.Pass.CodeInfo.Value != "2" || q.Pass.Version != 2 {
		t.Errorf("pass = %+v, want code 2 at version 2", q.Pass)
	}
}

// TestCallSignsExactBytes sends a pretty-printed body whose re-encoding
// would differ; the server verifies the raw bytes, so it only succeeds if
// Call signed exactly what it sent.
func TestCallSignsExactBytes(t *testing.T) {
	k := mustKeys(t)
	c := newClient(t, startServer(t, k), k, nil)
	ctx := context.Background()
	created, err := c.CreatePass(ctx, memberCard("M-RAW"))
	if err != nil {
		t.Fatal(err)
	}
	body := "{\r\n\t\"passId\" : \"" + created.PassID + "\",\n  \"merchantId\":\"2160120036095023\"  }\n"
	for _, op := range []string{client.OpQueryPass, client.PathQueryPass} {
		resp, err := c.Call(ctx, op, []byte(body))
		if err != nil {
			t.Fatalf("Call(%s): %v", op, err)
		}
		if !strings.Contains(string(resp.Body), created.PassID) || resp.Result.Code != ipass.CodeSuccess {
			t.Errorf("Call(%s) body %s", op, resp.Body)
		}
	}
	if _, err := c.Call(ctx, "deletePass", []byte("{}")); err == nil || !strings.Contains(err.Error(), "unknown operation") {
		t.Errorf("Call(deletePass) = %v, want unknown operation", err)
	}
	// A path the gateway does not serve is a signed F result.
	_, err = c.Call(ctx, "/api/open/alipay/v1/ipass/pass/manage/deletePass", []byte("{}"))
	var re *client.ResultError
	if !errors.As(err, &re) || re.ResultCode != ipass.CodeNoInterfaceDef || re.Response.StatusCode != http.StatusNotFound {
		t.Errorf("Call(deletePass path) = %v, want NO_INTERFACE_DEF", err)
	}
}

// TestRetryResignsWithFreshTime puts a proxy in front of the server that
// answers the first attempt with a signed U and forwards the rest. The SDK
// must retry, with a new Request-Time and signature, even though its clock
// is frozen: the server would refuse a repeated signed content.
func TestRetryResignsWithFreshTime(t *testing.T) {
	k := mustKeys(t)
	target, err := url.Parse(startServer(t, k))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var times, sigs []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, r.Header.Get("Request-Time"))
		sigs = append(sigs, r.Header.Get("Signature"))
		first := len(times) == 1
		mu.Unlock()
		if first {
			forged{status: http.StatusInternalServerError, body: resultBody("U", "UNKNOWN_EXCEPTION", "database unavailable")}.write(t, w, r, k)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()

	frozen := time.Now()
	c := newClient(t, ts.URL, k, func(c *client.Config) { c.Now = func() time.Time { return frozen } })
	created, err := c.CreatePass(context.Background(), memberCard("M-RETRY"))
	if err != nil {
		t.Fatalf("CreatePass through a U: %v", err)
	}
	if created.Response.Attempts != 2 || len(times) != 2 {
		t.Fatalf("attempts %d, requests %d; want 2", created.Response.Attempts, len(times))
	}
	if times[0] == times[1] || sigs[0] == sigs[1] {
		t.Errorf("retry reused Request-Time %q / signature", times[1])
	}
	for _, rt := range times {
		if _, err := gateway.ParseTime(rt); err != nil || !strings.Contains(rt, "T") {
			t.Errorf("Request-Time %q: %v", rt, err)
		}
	}
}

func TestConcurrentCalls(t *testing.T) {
	k := mustKeys(t)
	c := newClient(t, startServer(t, k), k, nil)
	ctx := context.Background()
	created, err := c.CreatePass(ctx, memberCard("M-CONC"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.QueryPass(ctx, &client.QueryPassRequest{MerchantID: merchantA, PassID: created.PassID})
			} else {
				_, err = c.UpdatePass(ctx, pointsUpdate(created.PassID, 1000+i))
			}
			if err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewValidation(t *testing.T) {
	k := mustKeys(t)
	base := func() client.Config {
		return client.Config{BaseURL: "http://127.0.0.1:1", ClientID: clientA, PrivateKey: k.clientRSA,
			KeyVersion: 1, ServerPublicKeys: k.serverPublicKeys()}
	}
	for _, tc := range []struct {
		name string
		edit func(*client.Config)
		want string // substring of the error; "" means valid
	}{
		{"OK", func(*client.Config) {}, ""},
		{"OKWithPathPrefix", func(c *client.Config) { c.BaseURL = "https://gw.example.com/prefix/" }, ""},
		{"OKInsecureWithoutKeys", func(c *client.Config) { c.ServerPublicKeys, c.InsecureSkipVerify = nil, true }, ""},
		{"OKAlgorithmAlias", func(c *client.Config) { c.Algorithm = "sha256withrsa" }, ""},
		{"ErrBaseURLRequired", func(c *client.Config) { c.BaseURL = "" }, "BaseURL is required"},
		{"ErrBaseURLScheme", func(c *client.Config) { c.BaseURL = "127.0.0.1:8080" }, "want http:// or https://"},
		{"ErrBaseURLQuery", func(c *client.Config) { c.BaseURL = "http://h/?a=b" }, "no query"},
		{"ErrClientID", func(c *client.Config) { c.ClientID = "" }, "ClientID"},
		{"ErrClientIDSpace", func(c *client.Config) { c.ClientID = "a b" }, "ClientID"},
		{"ErrPrivateKey", func(c *client.Config) { c.PrivateKey = nil }, "PrivateKey is required"},
		{"ErrAlgorithmMismatch", func(c *client.Config) { c.Algorithm = gateway.ECC224 }, "does not fit PrivateKey"},
		{"ErrAlgorithmUnknown", func(c *client.Config) { c.Algorithm = "MD5withRSA" }, "want RSA256 or ECC224"},
		{"ErrNoServerKey", func(c *client.Config) { c.ServerPublicKeys = nil }, "no RSA256 key"},
		{"ErrNoServerECCKey", func(c *client.Config) {
			c.PrivateKey = k.clientECC
			delete(c.ServerPublicKeys, gateway.ECC224)
		}, "no ECC224 key"},
		{"ErrServerKeyWrongAlg", func(c *client.Config) {
			c.ServerPublicKeys[gateway.ECC224] = k.serverRSA.Public()
		}, "ServerPublicKeys[ECC224] is a RSA256 key"},
		{"ErrEncryptionKey", func(c *client.Config) { c.Encryption = &client.Encryption{} }, "Encryption.ServerKey"},
		{"ErrAESKeySize", func(c *client.Config) {
			c.Encryption = &client.Encryption{ServerKey: &k.serverEnc.PublicKey, AESKeySize: 20}
		}, "AESKeySize"},
		{"ErrECCEncryptionWithoutDecryptionKey", func(c *client.Config) {
			c.PrivateKey = k.clientECC
			c.Encryption = &client.Encryption{ServerKey: &k.serverEnc.PublicKey}
		}, "DecryptionKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.edit(&cfg)
			_, err := client.New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
