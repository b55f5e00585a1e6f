package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
)

// bodies makes request i of a run. Every body differs (points, or a fresh
// bizSerialId), so no two requests have the same signed content even within
// one millisecond.
type bodies struct {
	cfg     *Config
	runID   string
	passIDs []string
}

// A pass's validity: from 2025-01-01 to 2100-01-01 (ms), as in examples/.
const (
	passStart = 1735689600000
	passEnd   = 4102444800000
)

func (b *bodies) next(i int) (operation string, body []byte) {
	op := b.cfg.Op
	if op == OpMix {
		switch i % 10 {
		case 0:
			op = OpCreate
		case 1, 2:
			op = OpQuery
		default:
			op = OpUpdate
		}
	}
	var v any
	switch op {
	case OpCreate:
		operation, v = "createPass", createRequest(b.cfg, fmt.Sprintf("bench-%s-%d", b.runID, i))
	case OpQuery:
		operation, v = "queryPass", &client.QueryPassRequest{MerchantID: b.cfg.MerchantID, PassID: b.passIDs[i%len(b.passIDs)]}
	default:
		operation, v = "updatePass", &client.UpdatePassRequest{
			MerchantID: b.cfg.MerchantID, UserID: b.cfg.UserID, PassID: b.passIDs[i%len(b.passIDs)],
			Status: ipass.RequestUpdate, UpdateDetailType: ipass.UpdateMemberCard,
			DataInfo: client.DataInfo{"$points_en_US$": i, "$points_zh_HK$": i},
		}
	}
	body, err := ipass.MarshalJSON(v)
	if err != nil {
		panic(err) // the request types always marshal
	}
	return operation, body
}

func createRequest(cfg *Config, serial string) *client.CreatePassRequest {
	return &client.CreatePassRequest{
		MerchantID: cfg.MerchantID, UserID: cfg.UserID, TemplateCode: cfg.TemplateCode,
		BizSerialID: serial, BizSerialType: ipass.BizSerialTypeOutPlatform, StartDate: passStart, EndDate: passEnd, BizCreate: passStart,
		CodeInfo: &client.CodeInfo{Value: serial},
		DataInfo: client.DataInfo{"$points_en_US$": 0, "$points_zh_HK$": 0},
	}
}

// createPasses makes the run's Passes passes (not measured), a few at a time.
func createPasses(ctx context.Context, cfg *Config, runID string) ([]string, error) {
	ids := make([]string, cfg.Passes)
	errs := make([]error, cfg.Passes)
	sem := make(chan struct{}, min(cfg.Concurrency, 16))
	var wg sync.WaitGroup
	for k := range cfg.Passes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			resp, err := cfg.Client.CreatePass(cctx, createRequest(cfg, fmt.Sprintf("bench-%s-pass-%d", runID, k)))
			if err != nil {
				errs[k] = fmt.Errorf("create pass %d of %d: %w", k+1, cfg.Passes, err)
				return
			}
			ids[k] = resp.PassID
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}
