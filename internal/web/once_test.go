package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/privacy"
	"github.com/hesar/hesar/internal/testutil"
)

var onceField = regexp.MustCompile(`<input type="hidden" name="once" value="([A-Za-z0-9_-]{22})">`)

// onceOf is the one-time token of the form on a page.
func onceOf(t *testing.T, body string) string {
	t.Helper()
	m := onceField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the form has no one-time token")
	}
	return m[1]
}

// TestAFormSentTwiceMakesOneThing: a double click, a reload that posts
// again, or two sends at the same moment of one new-request or reply form
// make one request or one message (with its files once), and every send
// lands on it. A form without a token (an old page) is not deduplicated.
func TestAFormSentTwiceMakesOneThing(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "a long enough passphrase here"
		e.customerPassword(e.f.Customer.ID, pw)
		cu := e.client("en")
		cu.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")

		before := e.stored()
		tok := onceOf(t, cu.get("/portal/requests/new").must(t, 200).body)
		if other := onceOf(t, cu.get("/portal/requests/new").must(t, 200).body); other == tok {
			t.Fatal("two loads of the form gave the same token")
		}
		form := url.Values{"subject": {"printer"}, "body": {"it smokes"}, "once": {tok}}
		first := cu.postFiles("/portal/requests", form, upFile{"log.txt", "the log"})
		if first.status != 303 || !strings.HasPrefix(first.location, "/portal/requests/") {
			t.Fatalf("first send: %d %q", first.status, first.location)
		}
		// Pressed again (the browser re-posts the same form).
		again := cu.postFiles("/portal/requests", form, upFile{"log.txt", "the log"})
		if again.status != 303 || again.location != first.location {
			t.Fatalf("second send went to %d %q, want %q", again.status, again.location, first.location)
		}
		after := e.stored()
		if after.tickets-before.tickets != 1 || after.attachments-before.attachments != 1 || after.blobs-before.blobs != 1 {
			t.Fatalf("two sends of one form stored %+v more, want one ticket and one file", diff(after, before))
		}

		// Two sends at the same moment of one reply form.
		page := strings.SplitN(first.location, "?", 2)[0]
		tok = onceOf(t, cu.get(page).must(t, 200).body)
		reply := url.Values{"body": {"any news?"}, "once": {tok}}
		var wg sync.WaitGroup
		got := make([]response, 4)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = cu.postFiles(page+"/messages", reply, upFile{fmt.Sprintf("photo%d.txt", i), "a photo"})
			}()
		}
		wg.Wait()
		for i, r := range got {
			if r.status != 303 || r.location != got[0].location || !strings.Contains(r.location, "#m") {
				t.Errorf("send %d at once: %d %q (first %q)", i, r.status, r.location, got[0].location)
			}
		}
		now := e.stored()
		if now.messages-after.messages != 1 || now.attachments-after.attachments != 1 || now.blobs-after.blobs != 1 {
			t.Errorf("four sends of one reply at once stored %+v more, want one message and one file", diff(now, after))
		}

		// A form from before tokens (or made by hand): each send counts.
		cu.postFiles("/portal/requests", url.Values{"subject": {"a"}, "body": {"b"}}).must(t, 303)
		cu.postFiles("/portal/requests", url.Values{"subject": {"a"}, "body": {"b"}}).must(t, 303)
		if n := e.stored().tickets - now.tickets; n != 2 {
			t.Errorf("two tokenless sends made %d tickets, want 2", n)
		}

		// Erasing the customer with their tickets takes the records of
		// their forms too.
		if _, err := a.Privacy.Erase(context.Background(), e.f.System(), e.f.Customer.ID, privacy.DeleteTickets); err != nil {
			t.Fatalf("erasing a customer whose forms were recorded: %v", err)
		}
	})
}

func diff(a, b stored) stored {
	return stored{messages: a.messages - b.messages, attachments: a.attachments - b.attachments, blobs: a.blobs - b.blobs, tickets: a.tickets - b.tickets}
}
