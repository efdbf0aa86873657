//go:build scale

// This harness needs a seeded 1,000,000-ticket data set, so it is built
// only with -tags scale: ordinary test runs (CI included) never see it,
// rather than skipping it.

package ticket_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/ticket"
)

// TestSearchAtScale times the first page of two-word searches, every pair
// of a sample of the bench vocabulary, on a data set seeded by
// `hesar bench --workspace bench1m`, as an agent of its first department.
// HESAR_SEARCH_SCALE names the data set:
//
//	HESAR_SEARCH_SCALE=/work/benchdata/sqlite go test -tags scale ./internal/ticket -run AtScale -v
//	HESAR_SEARCH_SCALE='postgres://…|/work/benchdata/pg' go test -tags scale ./internal/ticket -run AtScale -v
//
// With HESAR_SEARCH_Q set it times that one query three times instead.
func TestSearchAtScale(t *testing.T) {
	where := os.Getenv("HESAR_SEARCH_SCALE")
	if where == "" {
		t.Fatal("set HESAR_SEARCH_SCALE to the seeded data set (see the comment above)")
	}
	cfg := app.Config{DataDir: where}
	if url, dir, ok := strings.Cut(where, "|"); ok {
		cfg = app.Config{DatabaseURL: url, DataDir: dir}
	}
	a, err := app.Open(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ws, err := a.Workspaces.BySlug(ctx, "bench1m")
	if err != nil {
		t.Fatal(err)
	}
	depts, err := a.Departments.List(ctx, access.System(ws.ID))
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	for _, d := range depts {
		if d.Name == "Queue 1" {
			first = d.ID
		}
	}
	agent := access.ForUser(ws.ID, 1, access.RoleAgent, []int64{first})
	words := strings.Fields(`hello problem order payment login error internet invoice refund tracking
		urgent renewal discount sms install slow transaction wallet contract broken stock license
		export printer سلام مشکل سفارش پرداخت رمز سرویس فاکتور تحویل فوری تمدید ایمیل نصب کند کارت
		کیف مدارک گارانتی شکایت انبار ممنون تهران تبریز`)
	if q := os.Getenv("HESAR_SEARCH_Q"); q != "" {
		for range 3 {
			start := time.Now()
			page, err := a.Tickets.Search(ctx, agent, q, ticket.Filter{})
			t.Logf("%q: %d more=%v %v (err %v)", q, len(page.Tickets), page.NextCursor != "", time.Since(start), err)
		}
		return
	}
	type run struct {
		q     string
		d     time.Duration
		found int
		more  bool
	}
	var runs []run
	for i, w1 := range words {
		for _, w2 := range words[i+1:] {
			q := w1 + " " + w2
			start := time.Now()
			page, err := a.Tickets.Search(ctx, agent, q, ticket.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, run{q, time.Since(start), len(page.Tickets), page.NextCursor != ""})
		}
	}
	slices.SortFunc(runs, func(x, y run) int { return int(x.d - y.d) })
	at := func(p float64) time.Duration { return runs[int(p*float64(len(runs)-1))].d }
	t.Logf("%d queries: p50 %v, p95 %v, p99 %v, max %v", len(runs), at(0.5), at(0.95), at(0.99), runs[len(runs)-1].d)
	var short []string
	for _, r := range runs {
		if r.found < ticket.DefaultPageSize {
			short = append(short, fmt.Sprintf("%q %d more=%v %v", r.q, r.found, r.more, r.d))
		}
	}
	t.Logf("pages not full: %d %v", len(short), short)
	for _, r := range runs[max(0, len(runs)-8):] {
		t.Logf("slowest: %q found %d more=%v in %v", r.q, r.found, r.more, r.d)
	}
}
