package ticket_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestFormattedMessagesAreSanitizedMaskedAndSealed: HTML from an
// integration keeps its formatting but loses what could run, track or
// leak; card numbers are masked in the markup as in the text; the markup
// is stored only sealed.
func TestFormattedMessagesAreSanitizedMaskedAndSealed(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		agent := f.Scope(t, "admin")
		tk := create(t, a, f.Scope(t, "customer"), ticket.NewTicket{Subject: "formatted", Body: "hello"})

		m, err := a.Tickets.AddMessage(ctx, agent, tk.Number, ticket.NewMessage{Kind: ticket.KindReply,
			HTML: `<p dir="rtl">سلام، <b>کارت</b> شما ` + card + ` ثبت شد</p><script>alert(1)</script>` +
				`<img src="https://tracker.example/o.gif"><a href="https://shop.example/x" onclick="steal()">سفارش</a>`})
		if err != nil {
			t.Fatal(err)
		}
		if m.BlockedImages != 1 {
			t.Errorf("blocked %d remote images, want 1", m.BlockedImages)
		}
		for _, bad := range []string{"<script", "onclick", "tracker.example", "3456"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("kept markup %q has %q", m.HTML, bad)
			}
		}
		for _, want := range []string{`<b>کارت</b>`, `dir="rtl"`, `href="https://shop.example/x"`, "6037 99", "7893"} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("kept markup %q lacks %q", m.HTML, want)
			}
		}
		// With no text given, the text is the markup's, masked.
		if strings.Contains(m.Body, "3456") || !strings.Contains(m.Body, "سلام، کارت شما") || strings.Contains(m.Body, "<") {
			t.Errorf("body = %q", m.Body)
		}
		msgs, err := a.Tickets.Messages(ctx, agent, tk.Number, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := msgs[len(msgs)-1]; got.HTML != m.HTML || got.Body != m.Body {
			t.Errorf("read back %q / %q, want %q / %q", got.HTML, got.Body, m.HTML, m.Body)
		}
		if msgs[0].HTML != "" {
			t.Errorf("a plain-text message reads back with markup %q", msgs[0].HTML)
		}
		// Sealed: neither the markup nor its words are in the database.
		var raw []byte
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT body_html_enc FROM messages WHERE id = $1`, m.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || strings.Contains(string(raw), "shop.example") || strings.Contains(string(raw), "<b>") {
			t.Errorf("body_html_enc is not sealed: %q", raw)
		}
	})
}

// TestMarkupThatHidesACardNumberIsDropped: a card number split by tags
// escapes a scan of the markup but not of its text; then only the masked
// text is kept, never markup with the number in it.
func TestMarkupThatHidesACardNumberIsDropped(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		agent := f.Scope(t, "admin")
		tk := create(t, a, f.Scope(t, "customer"), ticket.NewTicket{Subject: "split", Body: "hello"})
		m, err := a.Tickets.AddMessage(ctx, agent, tk.Number, ticket.NewMessage{Kind: ticket.KindNote,
			HTML: `<p>card <span>6037</span><span>9912</span><span>3456</span><span>7893</span></p>`})
		if err != nil {
			t.Fatal(err)
		}
		if m.HTML != "" {
			t.Errorf("markup hiding a card number was kept: %q", m.HTML)
		}
		if strings.Contains(m.Body, "3456") {
			t.Errorf("text kept the number: %q", m.Body)
		}
	})
}

func TestFormattedMessageBadInput(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		agent := f.Scope(t, "admin")
		tk := create(t, a, f.Scope(t, "customer"), ticket.NewTicket{Subject: "bad", Body: "hello"})
		for name, in := range map[string]ticket.NewMessage{
			"no text at all": {Kind: ticket.KindReply, HTML: `<p> </p><img src="https://x.example/a.png">`},
			"invalid utf-8":  {Kind: ticket.KindReply, HTML: "<p>\xff</p>"},
			"too long":       {Kind: ticket.KindReply, HTML: strings.Repeat("a", ticket.MaxHTML+1)},
			"only script":    {Kind: ticket.KindReply, HTML: `<script>alert(1)</script>`},
		} {
			_, err := a.Tickets.AddMessage(ctx, agent, tk.Number, in)
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				t.Errorf("%s: %v, want a validation error", name, err)
			}
		}
		msgs, err := a.Tickets.Messages(ctx, agent, tk.Number, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Errorf("refused messages left %d messages, want the 1 first", len(msgs))
		}
	})
}

// TestTicketsOpenWithAFormattedFirstMessage: on both write paths (one
// statement on PostgreSQL, several on SQLite) the first message keeps its
// sanitized, masked markup.
func TestTicketsOpenWithAFormattedFirstMessage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		admin := f.Scope(t, "admin")
		tk := create(t, a, f.Scope(t, "customer"), ticket.NewTicket{Subject: "from a form",
			HTML: `<p>Card <b>` + card + `</b></p><img src="https://t.example/x.gif"><script>x()</script>`})
		msgs, err := a.Tickets.Messages(ctx, admin, tk.Number, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		if !strings.Contains(m.HTML, "<b>6037 99") || strings.Contains(m.HTML, "3456") || strings.Contains(m.HTML, "script") || strings.Contains(m.HTML, "t.example") {
			t.Errorf("first message markup = %q", m.HTML)
		}
		if m.Body == "" || strings.Contains(m.Body, "3456") || strings.Contains(m.Body, "<") {
			t.Errorf("first message text = %q", m.Body)
		}
		var inv *errs.Invalid
		if _, err := a.Tickets.Create(ctx, admin, ticket.NewTicket{Subject: "x", HTML: "<p>\xff</p>", CustomerID: f.Customer.ID}); !errors.As(err, &inv) {
			t.Errorf("invalid UTF-8 markup: %v", err)
		}
	})
}
