package client_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

// readKey loads a PEM key file; merchants keep theirs wherever they like.
func readKey(path string) crypto.Signer {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	key, err := gateway.ParsePrivateKey(data)
	if err != nil {
		log.Fatal(err)
	}
	return key
}

func readPublicKey(path string) crypto.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	key, err := gateway.ParsePublicKey(data)
	if err != nil {
		log.Fatal(err)
	}
	return key
}

// A merchant issues a membership card, adds points to it, and reads it back.
func ExampleClient_UpdatePass() {
	// An ipass server on loopback with the fixtures of docs/api.md, "Worked examples".
	serverURL, _, stop := exampleServer()
	defer stop()

	c, err := client.New(client.Config{
		BaseURL:    serverURL,
		ClientID:   "2110200000000044",
		PrivateKey: readKey(filepath.Join("..", "tenants", "testdata", "keys", "client-0044-rsa-v1.pem")),
		KeyVersion: 1,                     // Algorithm RSA256 follows from the key
		Retries:    client.DefaultRetries, // the zero value makes one attempt only
		ServerPublicKeys: map[gateway.Algorithm]crypto.PublicKey{
			gateway.RSA256: readPublicKey(filepath.Join("..", "gateway", "testdata", "keys", "server-rsa-sign.pub.pem")),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	created, err := c.CreatePass(ctx, &client.CreatePassRequest{
		MerchantID:   "2160120036095023",
		UserID:       "2160220037090534",
		TemplateCode: "temlate111001",
		BizSerialID:  "1111128828",
		StartDate:    1735689600000,
		EndDate:      4102444800000,
		BizCreate:    1735689600000,
		CodeInfo:     &client.CodeInfo{Value: "81399940"},
		DataInfo:     client.DataInfo{"$points_en_US$": 100, "$level_en_US$": "Silver Card"},
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.UpdatePass(ctx, &client.UpdatePassRequest{
		MerchantID:       "2160120036095023",
		UserID:           "2160220037090534",
		PassID:           created.PassID,
		Status:           ipass.RequestUpdate,
		UpdateDetailType: ipass.UpdateMemberCard,
		DataInfo: client.DataInfo{
			"$points_en_US$":    19999,
			"billNo":            "220230343242343442422333222", // kept in the pass history only
			"lastChangedPoints": 19899,
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	q, err := c.QueryPass(ctx, &client.QueryPassRequest{MerchantID: "2160120036095023", PassID: created.PassID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.Pass.Status, "version", q.Pass.Version)
	fmt.Println("points:", string(q.Pass.DataInfo["$points_en_US$"]), "level:", string(q.Pass.DataInfo["$level_en_US$"]))

	// A failure is a *client.ResultError carrying the signed result.
	_, err = c.UpdatePass(ctx, &client.UpdatePassRequest{
		MerchantID: "2160120036095023",
		UserID:     "2160220037090534",
		PassID:     created.PassID,
		Status:     ipass.RequestUsed, // a membership card cannot be used up
	})
	var re *client.ResultError
	if errors.As(err, &re) {
		fmt.Println(re.ResultStatus, re.ResultCode)
	}
	// Output:
	// ACTIVE version 2
	// points: 19999 level: "Silver Card"
	// F BIZ_NOT_SUPPORT
}
