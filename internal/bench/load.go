package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// target is a Hesar server to measure and what the requests need to know
// about it.
type target struct {
	base   string // http://host:port
	client *http.Client
	// admin acts for create, get, reply and me; agent (member of queue
	// only) for list-queue and search, the queries scoped to departments.
	admin, agent string
	departments  []int64
	queue        int64
	customers    int    // known customers, knownEmail(0 … customers-1)
	tag          string // keeps new-customer emails unique across runs
	inProcess    bool
	// workspace is the in-process run's workspace slug; reused says it
	// existed before this run, with existing tickets in it.
	workspace string
	reused    bool
	existing  int
	// seedTicket creates one ticket while seeding and returns its number.
	seedTicket func(ctx context.Context, tx *texts, i int) (int64, error)
	// optimize, in process, refreshes the planner statistics after
	// seeding, as a serving Hesar does a minute after start and hourly.
	optimize  func(ctx context.Context) error
	numbers   []int64 // seeded ticket numbers
	maxNumber int64   // when numbers is empty: pick from 1 … maxNumber
}

func newTarget(base string, concurrency int) *target {
	tr := &http.Transport{
		Proxy:               nil, // a proxy from the environment would be measured too
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency, // every worker keeps its connection alive
		IdleConnTimeout:     90 * time.Second,
	}
	return &target{base: base, client: &http.Client{Transport: tr, Timeout: time.Minute}, tag: randomHex(4)}
}

// call is one request, built before the clock starts.
type call struct {
	method, path, token string
	body                []byte // JSON; nil for none
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// do sends c and reads the whole answer, decoding it into out when out is
// not nil. Reading to the end lets the connection be reused.
func (t *target) do(ctx context.Context, c call, out any) error {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, t.base+c.path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		_, _ = io.Copy(io.Discard, resp.Body)
		return &statusError{resp.StatusCode, string(bytes.TrimSpace(b))}
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

type ticketRequest struct {
	Subject      string        `json:"subject"`
	Body         string        `json:"body"`
	Status       string        `json:"status,omitempty"`
	Priority     string        `json:"priority,omitempty"`
	DepartmentID int64         `json:"department_id"`
	Customer     customerInput `json:"customer"`
}

type customerInput struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// newTicket is a POST /api/v1/tickets body from the customer at email.
// Known customers are named by email too, not by id, so create and
// create-new-customer send the same shape and differ only in whether the
// address is known: the comparison the targets ask for.
func (t *target) newTicket(tx *texts, email, status string) []byte {
	subject, body := tx.subjectBody()
	return mustJSON(ticketRequest{Subject: subject, Body: body, Status: status, Priority: pickPriority(tx),
		DepartmentID: t.departments[tx.rng.IntN(len(t.departments))], Customer: customerInput{Email: email, Name: tx.name()}})
}

// pick returns the number of an existing ticket.
func (t *target) pick(tx *texts) int64 {
	if len(t.numbers) > 0 {
		return t.numbers[tx.rng.IntN(len(t.numbers))]
	}
	return 1 + tx.rng.Int64N(t.maxNumber)
}

// ops builds the next request of each operation for worker w's seq-th turn.
var ops = map[string]func(t *target, tx *texts, w, seq int) call{
	"create": func(t *target, tx *texts, _, _ int) call {
		return call{"POST", "/api/v1/tickets", t.admin, t.newTicket(tx, knownEmail(tx.rng.IntN(t.customers)), "")}
	},
	"create-new-customer": func(t *target, tx *texts, w, seq int) call {
		email := fmt.Sprintf("new-%s-%d-%d@example.com", t.tag, w, seq)
		return call{"POST", "/api/v1/tickets", t.admin, t.newTicket(tx, email, "")}
	},
	"list-queue": func(t *target, _ *texts, _, _ int) call {
		return call{"GET", fmt.Sprintf("/api/v1/tickets?department_id=%d&status=open,new", t.queue), t.agent, nil}
	},
	"get": func(t *target, tx *texts, _, _ int) call {
		return call{"GET", fmt.Sprintf("/api/v1/tickets/%d", t.pick(tx)), t.admin, nil}
	},
	"reply": func(t *target, tx *texts, _, _ int) call {
		body := mustJSON(map[string]string{"kind": "reply", "body": tx.reply()})
		return call{"POST", fmt.Sprintf("/api/v1/tickets/%d/messages", t.pick(tx)), t.admin, body}
	},
	"me": func(t *target, _ *texts, _, _ int) call {
		return call{"GET", "/api/v1/me", t.admin, nil}
	},
	"search": func(t *target, tx *texts, _, _ int) call {
		return call{"GET", "/api/v1/search?q=" + url.QueryEscape(tx.query()), t.agent, nil}
	},
}

// measure runs op from concurrency workers for d and records every
// request's latency. Workers start no request after d but finish the one
// in flight, so no request is cut short and counted as an error.
func (t *target) measure(ctx context.Context, op string, concurrency int, d time.Duration, progress io.Writer) (Result, error) {
	build := ops[op]
	latencies := make([][]time.Duration, concurrency)
	failures := make([]int, concurrency)
	var first sync.Once
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			tx := newTexts(newRand())
			for seq := 0; ctx.Err() == nil && time.Now().Before(deadline); seq++ {
				c := build(t, tx, w, seq)
				t0 := time.Now()
				err := t.do(ctx, c, nil)
				latencies[w] = append(latencies[w], time.Since(t0))
				if err != nil {
					failures[w]++
					first.Do(func() { fmt.Fprintf(progress, "%s: first error: %v\n", op, err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var all []time.Duration
	errCount := 0
	for w := range concurrency {
		all = append(all, latencies[w]...)
		errCount += failures[w]
	}
	return summarize(op, all, errCount, elapsed), nil
}

// findTickets makes sure get and reply have tickets to ask for: the seeded
// ones, or every number of a reused workspace, else (seed 0 against a
// running server) the newest number there.
func (t *target) findTickets(ctx context.Context) error {
	if len(t.numbers) > 0 || t.maxNumber > 0 {
		return nil
	}
	var page struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if err := t.do(ctx, call{"GET", "/api/v1/tickets?limit=1", t.admin, nil}, &page); err != nil {
		return fmt.Errorf("find existing tickets: %w", err)
	}
	if len(page.Data) == 0 {
		return errors.New("get and reply need tickets: give --seed, or leave them out of --ops")
	}
	t.maxNumber = page.Data[0].ID
	return nil
}

// rss is this process's resident memory when it holds the server too.
func (t *target) rss() *float64 {
	if !t.inProcess {
		return nil
	}
	mb, ok := rssMB()
	if !ok {
		return nil
	}
	return &mb
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own request structs are marshalled
	}
	return b
}
