package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// remote prepares to measure a server that is already running, as the
// staff user behind cfg.Token (who acts both as admin and as agent). It
// uses that user's departments, or every department it may list, and
// seeds over the API, since only the API can reach that server.
func remote(ctx context.Context, cfg Config) (*target, error) {
	t := newTarget(strings.TrimRight(cfg.URL, "/"), cfg.Concurrency)
	t.admin, t.agent, t.customers = cfg.Token, cfg.Token, cfg.Customers
	var me struct {
		User *struct {
			Departments []int64 `json:"departments"`
		} `json:"user"`
	}
	if err := t.do(ctx, call{"GET", "/api/v1/me", t.admin, nil}, &me); err != nil {
		return nil, fmt.Errorf("check --token at %s: %w", cfg.URL, err)
	}
	if me.User == nil {
		return nil, errors.New("--token must belong to a staff user, not a customer")
	}
	t.departments = me.User.Departments
	if len(t.departments) == 0 {
		var list struct {
			Data []struct {
				ID int64 `json:"id"`
			} `json:"data"`
		}
		if err := t.do(ctx, call{"GET", "/api/v1/departments", t.admin, nil}, &list); err != nil {
			return nil, fmt.Errorf("list departments: %w", err)
		}
		for _, d := range list.Data {
			t.departments = append(t.departments, d.ID)
		}
	}
	if len(t.departments) == 0 {
		return nil, errors.New("the token's workspace has no department the user can see")
	}
	t.queue = t.departments[0]
	t.seedTicket = func(ctx context.Context, tx *texts, _ int) (int64, error) {
		// Known customers come into being with their first ticket here.
		body := t.newTicket(tx, knownEmail(tx.rng.IntN(t.customers)), pickStatus(tx))
		var created struct {
			ID int64 `json:"id"`
		}
		err := t.do(ctx, call{"POST", "/api/v1/tickets", t.admin, body}, &created)
		return created.ID, err
	}
	return t, nil
}
