package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// BenchmarkTicketViewAudit measures what recording every ticket view in
// the audit log costs, at concurrency 32 (16 goroutines per core on 2
// cores), over real HTTP: the same app served with and without the audit
// log.
//
//	go test ./internal/api -run '^$' -bench TicketViewAudit -benchtime 3s
func BenchmarkTicketViewAudit(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			a := testutil.App(b, kind)
			f := testutil.NewFixture(b, a)
			tk, err := a.Tickets.Create(b.Context(), f.System(), ticket.NewTicket{Subject: "bench", Body: "b", DepartmentID: f.Sales, CustomerID: f.Customer.ID})
			if err != nil {
				b.Fatal(err)
			}
			with := httptest.NewServer(a.Handler())
			b.Cleanup(with.Close)
			without := httptest.NewServer(api.New(api.Opts{Identity: a.Identity, Departments: a.Departments, Customers: a.Customers,
				Tickets: a.Tickets, Attachments: a.Attachments, Privacy: a.Privacy, Ready: a.Ready, Logger: a.Log}).Handler())
			b.Cleanup(without.Close)
			path := "/api/v1/tickets/" + itoa(tk.Number)
			for _, srv := range []struct {
				name string
				url  string
			}{{"without-audit", without.URL}, {"with-audit", with.URL}} {
				b.Run(srv.name, func(b *testing.B) { viewInParallel(b, a, srv.url+path, f.Tokens["admin"]) })
			}
		})
	}
}

func viewInParallel(b *testing.B, _ *app.App, url, token string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	cl := &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := cl.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
