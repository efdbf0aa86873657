package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// BenchmarkConsoleTicketPage50Messages measures the agent's ticket page
// with 50 messages, server side (over loopback HTTP), and reports the p95.
// Target (issue 5): p95 ≤ 10 ms.
// One message in ten came as HTML, so the sanitizing at display is in
// the cost; the customer card (masked contact, other requests) is too.
func BenchmarkConsoleTicketPage50Messages(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) { benchTicketPage(b, kind) })
	}
}

func benchTicketPage(b *testing.B, dbKind string) {
	a := testutil.App(b, dbKind)
	e := newEnv(b, a)
	ctx := context.Background()
	const pw = "an agent passphrase of some length"
	u := e.staff("agent", "bench", pw, e.f.Sales)
	tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "پرینتر روشن نمی‌شود", Body: "سلام، پرینتر دفتر روشن نمی‌شود.",
		CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 49 {
		kind := ticket.KindReply
		if i%5 == 0 {
			kind = ticket.KindNote
		}
		in := ticket.NewMessage{Kind: kind, Body: "پیام شمارهٔ " + strconv.Itoa(i) + " — the printer still shows error E-" + strconv.Itoa(i)}
		if i%10 == 3 {
			in.HTML = "<p>پیام <b>شمارهٔ " + strconv.Itoa(i) + "</b></p><ul><li>the printer</li><li>still shows <a href=\"https://help.example/e\">error E-" +
				strconv.Itoa(i) + "</a></li></ul><img src=\"https://tracker.example/o.gif\">"
		}
		if _, err := a.Tickets.AddMessage(ctx, e.f.System(), tk.Number, in); err != nil {
			b.Fatal(err)
		}
	}
	c := e.client("fa")
	c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}}).redirect(b, "/console/")
	path := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
	c.get(path).must(b, http.StatusOK)
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if p := c.get(path); p.status != http.StatusOK {
			b.Fatalf("status %d", p.status)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) > 0 {
		b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
	}
}
