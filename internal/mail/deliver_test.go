package mail_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	hmail "github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

func TestMailOfARolledBackWriteIsNeverSent(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
		rollback := errors.New("the change failed")
		err := e.d.Write(ctx, func(tx *db.Tx) error {
			if err := e.outbox.Enqueue(ctx, tx, e.message("lost@example.com", "Reset", "body")); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("Write = %v, want the rollback", err)
		}
		err = e.d.Write(ctx, func(tx *db.Tx) error {
			return e.outbox.Enqueue(ctx, tx, e.message("kept@example.com", "Reset", "body"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := deliver(t, dl); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "kept@example.com" {
			t.Fatalf("server got %+v, want only the committed mail", msgs)
		}
		if n := len(e.rows(t)); n != 1 {
			t.Errorf("outbox holds %d rows, want 1", n)
		}
	})
}

func TestPersianMailArrivesIntactOverSTARTTLSWithAuth(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true, Username: "hesar", Password: "s3cret pass"})
		cfg := config(srv, hmail.SecuritySTARTTLS)
		cfg.Username, cfg.Password = "hesar", "s3cret pass"
		dl := e.deliverer(cfg)

		subject := "بازنشانی گذرواژهٔ حساب شما در شرکت نمونه — یک موضوع بلند برای آزمودن شکستن سرآیند در چند خط"
		body := "سارا گرامی، سلام\n\nبرای انتخاب گذرواژهٔ تازه، پیوند زیر را باز کنید:\n\nhttps://desk.example.com/reset/abc?x=1&y=2\n" +
			".\n.a line starting with a dot\n" + strings.Repeat("خط بلند ", 40) + "\nlast line = end"
		e.send(t, e.message("Sara Ahmadi <sara@example.com>", subject, body))
		if n := deliver(t, dl); n != 1 {
			t.Fatalf("sent %d, want 1; last_error %q", n, e.only(t).lastError)
		}
		got := srv.WaitFor(t, func(smtpd.Received) bool { return true }, 5*time.Second)
		if got.Subject != subject {
			t.Errorf("subject = %q, want %q", got.Subject, subject)
		}
		if strings.TrimRight(got.Body, "\n") != body {
			t.Errorf("body = %q, want %q", got.Body, body)
		}
		if !got.TLS || got.User != "hesar" {
			t.Errorf("session TLS=%v user=%q, want TLS and AUTH as hesar", got.TLS, got.User)
		}
		if got.From != "noreply@hesar.test" || len(got.To) != 1 || got.To[0] != "sara@example.com" {
			t.Errorf("envelope from %q to %v", got.From, got.To)
		}
		h := got.Header
		for name, want := range map[string]string{
			"Mime-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
			"Content-Transfer-Encoding": "quoted-printable", "Auto-Submitted": "auto-generated",
			"From": `"Hesar" <noreply@hesar.test>`, "To": `"Sara Ahmadi" <sara@example.com>`,
		} {
			if h.Get(name) != want {
				t.Errorf("%s = %q, want %q", name, h.Get(name), want)
			}
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@hesar.test>") {
			t.Errorf("Message-ID = %q", id)
		}
		for i, line := range bytes.Split(got.Data, []byte("\r\n")) {
			if len(line) > 78 {
				t.Errorf("line %d is %d octets long", i, len(line))
			}
			for _, c := range line {
				if c >= 0x80 {
					t.Fatalf("line %d holds a non-ASCII octet: the message is not 7-bit clean", i)
				}
			}
		}
		if logs := e.logs.String(); strings.Contains(logs, "sara@example.com") || strings.Contains(logs, "reset/abc") || strings.Contains(logs, "بازنشانی") {
			t.Errorf("logs hold the recipient, subject or body:\n%s", logs)
		}
	})
}

func TestImplicitTLSDelivers(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := smtpd.Start(t, smtpd.Options{ImplicitTLS: true, Username: "u", Password: "p"})
	cfg := config(srv, hmail.SecurityTLS)
	cfg.Username, cfg.Password = "u", "p"
	e.send(t, e.message("a@example.com", "Hello", "Hi"))
	if n := deliver(t, e.deliverer(cfg)); n != 1 {
		t.Fatalf("sent %d, want 1; last_error %q", n, e.only(t).lastError)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("got %+v, want one message over TLS", m)
	}
}

func TestServerWithoutSTARTTLSIsRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{}) // plain text only
		dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
		e.send(t, e.message("a@example.com", "Reset", "https://desk.example.com/reset/secret"))
		if n := deliver(t, dl); n != 0 {
			t.Fatalf("sent %d over a server without STARTTLS", n)
		}
		if srv.Attempts() != 0 || len(srv.Messages()) != 0 {
			t.Fatal("the message reached a server without STARTTLS")
		}
		r := e.only(t)
		if r.state != hmail.StateQueued || r.attempts != 1 || !strings.Contains(r.lastError, "STARTTLS") {
			t.Errorf("row state=%s attempts=%d last_error=%q, want queued, 1, a STARTTLS error", r.state, r.attempts, r.lastError)
		}
	})
}

func TestPlainTextIsOnlyForLocalhost(t *testing.T) {
	srv := smtpd.Start(t, smtpd.Options{Username: "u", Password: "p"})
	cfg := config(srv, hmail.SecurityNone)
	cfg.Username, cfg.Password = "u", "p"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("none on 127.0.0.1: %v", err)
	}
	e := newEnv(t, "sqlite")
	e.send(t, e.message("a@example.com", "Hi", "Hi"))
	if n := deliver(t, e.deliverer(cfg)); n != 1 {
		t.Fatalf("sent %d to a localhost relay in plain text, want 1", n)
	}
	cfg.Host = "mail.example.com"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "localhost") {
		t.Errorf("none on a remote host: err = %v, want a refusal naming localhost", err)
	}
}

func TestWrongPasswordIsRetriedWithBackoffThenFails(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true, Username: "hesar", Password: "right"})
		cfg := config(srv, hmail.SecuritySTARTTLS)
		cfg.Username, cfg.Password = "hesar", "wrong"
		dl := e.deliverer(cfg)
		dl.MaxAttempts = 3
		to, subject := unique("victim-")+"@example.com", unique("subject-")
		e.send(t, e.message(to, subject, "https://desk.example.com/reset/"+unique("")))

		for attempt := 1; attempt <= 3; attempt++ {
			before := e.clock.Now()
			if n := deliver(t, dl); n != 0 {
				t.Fatalf("attempt %d sent with a wrong password", attempt)
			}
			r := e.only(t)
			if r.attempts != attempt {
				t.Fatalf("attempts = %d, want %d", r.attempts, attempt)
			}
			if attempt < 3 {
				wantWait := hmail.DefaultBackoff(attempt)
				if r.state != hmail.StateQueued || r.nextAttemptAt != before.Add(wantWait).UnixMicro() {
					t.Fatalf("after attempt %d: state %s, next attempt in %v, want queued, in %v",
						attempt, r.state, time.Duration(r.nextAttemptAt-before.UnixMicro())*time.Microsecond, wantWait)
				}
				if n := deliver(t, dl); n != 0 || e.only(t).attempts != attempt {
					t.Fatal("a message was retried before its backoff ran out")
				}
				e.clock.Advance(wantWait)
			}
		}
		r := e.only(t)
		if r.state != hmail.StateFailed || !strings.Contains(r.lastError, "535") {
			t.Fatalf("state %s, last_error %q; want failed with the 535 reply", r.state, r.lastError)
		}
		for _, secret := range []string{to, subject, "reset/"} {
			if strings.Contains(r.lastError, secret) || strings.Contains(e.logs.String(), secret) {
				t.Errorf("last_error or logs hold %q", secret)
			}
		}
		if body := e.open(t, r, "body", r.bodyEnc); body != "" {
			t.Errorf("a failed message kept its body %q", body)
		}
		e.clock.Advance(24 * time.Hour)
		if n := deliver(t, dl); n != 0 || e.only(t).attempts != 3 {
			t.Error("a failed message was tried again")
		}
	})
}

func TestTemporaryFailureIsRetriedAndDelivered(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true, FailFirst: 2})
		dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
		e.send(t, e.message("a@example.com", "Hi", "Hello"))
		for i, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
			if n := deliver(t, dl); n != 0 {
				t.Fatalf("try %d: sent despite 451", i+1)
			}
			if r := e.only(t); !strings.Contains(r.lastError, "451") {
				t.Fatalf("last_error %q, want the 451 reply", r.lastError)
			}
			e.clock.Advance(wait)
		}
		if n := deliver(t, dl); n != 1 {
			t.Fatalf("third try sent %d, want 1", n)
		}
		r := e.only(t)
		if r.state != hmail.StateSent || r.attempts != 3 || r.sentAt == nil || r.lastError != "" {
			t.Errorf("row %+v, want sent after 3 attempts", r)
		}
		if len(srv.Messages()) != 1 || srv.Attempts() != 3 {
			t.Errorf("server accepted %d of %d tries, want 1 of 3", len(srv.Messages()), srv.Attempts())
		}
	})
}

func TestRejectedRecipientFailsAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true, RejectRecipient: func(a string) bool { return strings.HasPrefix(a, "gone") }})
		dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
		e.send(t, e.message("gone@example.com", "Hi", "Hello"))
		e.send(t, e.message("here@example.com", "Hi", "Hello"))
		if n := deliver(t, dl); n != 1 {
			t.Fatalf("sent %d, want 1 (the session goes on after a refused recipient)", n)
		}
		rs := e.rows(t)
		if rs[0].state != hmail.StateFailed || rs[0].attempts != 1 || strings.Contains(rs[0].lastError, "gone@") || !strings.Contains(rs[0].lastError, "550") {
			t.Errorf("refused row %+v, want failed after 1 attempt with the 550 code and no address", rs[0])
		}
		if rs[1].state != hmail.StateSent {
			t.Errorf("second message %s, want sent", rs[1].state)
		}
	})
}

func TestTwoDeliverersSendEachMessageExactlyOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		const total = 40
		for i := range total {
			e.send(t, e.message(fmt.Sprintf("user%d@example.com", i), "Hi", "Hello"))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		sent := 0
		for range 2 {
			dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
			dl.Batch = 3
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := dl.DeliverDue(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				sent += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.To[0]]++
		}
		if sent != total || len(seen) != total || srv.Attempts() != total {
			t.Fatalf("deliverers report %d sent, server saw %d tries for %d recipients; want %d each", sent, srv.Attempts(), len(seen), total)
		}
		for to, n := range seen {
			if n != 1 {
				t.Errorf("%s got %d copies", to, n)
			}
		}
		for _, r := range e.rows(t) {
			if r.state != hmail.StateSent || r.attempts != 1 {
				t.Errorf("row %d: %s after %d attempts", r.id, r.state, r.attempts)
			}
		}
	})
}

func TestSentMessageKeepsNoBody(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		e.send(t, e.message("a@example.com", "Your sign-in link", "https://desk.example.com/signin/"+unique("")))
		r := e.only(t)
		if !strings.Contains(e.open(t, r, "body", r.bodyEnc), "/signin/") {
			t.Fatal("queued body does not hold the link")
		}
		if n := deliver(t, e.deliverer(config(srv, hmail.SecuritySTARTTLS))); n != 1 {
			t.Fatalf("sent %d", n)
		}
		r = e.only(t)
		if body := e.open(t, r, "body", r.bodyEnc); body != "" {
			t.Errorf("sent message still holds its body %q", body)
		}
		if to := e.open(t, r, "to", r.toEnc); to != "a@example.com" {
			t.Errorf("recipient = %q; it is kept (sealed) for the record", to)
		}
	})
}

func TestDatabaseNeverHoldsRecipientSubjectOrBodyInClear(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		to := unique("secretuser") + "@example.com"
		subject := unique("SecretSubject")
		body := unique("SecretBody")
		e.send(t, e.message(to, subject, body))
		markers := []string{to, subject, body, strings.Split(to, "@")[0]}
		e.assertNotStored(t, markers)
		if n := deliver(t, e.deliverer(config(srv, hmail.SecuritySTARTTLS))); n != 1 {
			t.Fatalf("sent %d", n)
		}
		e.assertNotStored(t, markers)
	})
}

// assertNotStored scans every column of every outbox row, and on SQLite
// the database and WAL files themselves, for the markers.
func (e *env) assertNotStored(t *testing.T, markers []string) {
	t.Helper()
	rs, err := e.d.Read().QueryContext(ctx, `SELECT * FROM mail_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var all bytes.Buffer
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				all.Write(b)
			} else {
				fmt.Fprint(&all, v)
			}
			all.WriteByte(0)
		}
	}
	if all.Len() == 0 {
		t.Fatal("the outbox is empty")
	}
	for _, m := range markers {
		if bytes.Contains(all.Bytes(), []byte(m)) {
			t.Errorf("a mail_outbox column holds %q in clear", m)
		}
	}
	if e.path == "" {
		return
	}
	for _, f := range []string{e.path, e.path + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range markers {
			if bytes.Contains(raw, []byte(m)) {
				t.Errorf("%s holds %q in clear", f, m)
			}
		}
	}
}

func TestHeaderInjectionIsRefusedAtEnqueue(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cases := map[string]hmail.Message{
			"CRLF in subject":        e.message("a@example.com", "Hi\r\nBcc: evil@example.com", "x"),
			"LF in subject":          e.message("a@example.com", "Hi\nBcc: evil@example.com", "x"),
			"CR in subject":          e.message("a@example.com", "Hi\rBcc: evil@example.com", "x"),
			"line separator":         e.message("a@example.com", "Hi\u2028Bcc: evil@example.com", "x"),
			"NUL in subject":         e.message("a@example.com", "Hi\x00", "x"),
			"CRLF in recipient":      e.message("a@example.com\r\nBcc: evil@example.com", "Hi", "x"),
			"LF in display name":     e.message("\"A\nBcc: evil@example.com\" <a@example.com>", "Hi", "x"),
			"two recipients":         e.message("a@example.com, evil@example.com", "Hi", "x"),
			"not an address":         e.message("not an address", "Hi", "x"),
			"SMTP command in rcpt":   e.message("a@example.com>\r\nRCPT TO:<evil@example.com", "Hi", "x"),
			"empty subject":          e.message("a@example.com", "  ", "x"),
			"no workspace":           {Kind: "x", To: "a@example.com", Subject: "Hi"},
			"kind with header chars": {WorkspaceID: e.ws, Kind: "x\r\n", To: "a@example.com", Subject: "Hi"},
		}
		for name, m := range cases {
			err := e.d.Write(ctx, func(tx *db.Tx) error { return e.outbox.Enqueue(ctx, tx, m) })
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				t.Errorf("%s: Enqueue = %v, want *errs.Invalid", name, err)
			}
			if err := e.outbox.Send(ctx, m); !errors.As(err, &inv) {
				t.Errorf("%s: Send = %v, want *errs.Invalid", name, err)
			}
		}
		if n := len(e.rows(t)); n != 0 {
			t.Errorf("%d refused messages were queued", n)
		}
	})
}

func TestPruneDropsOldSentAndFailedMail(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		e.send(t, e.message("old@example.com", "Hi", "x"))
		if n := deliver(t, e.deliverer(config(srv, hmail.SecuritySTARTTLS))); n != 1 {
			t.Fatal("not sent")
		}
		e.send(t, e.message("queued@example.com", "Hi", "x"))
		n, err := hmail.Prune(ctx, e.d, e.clock.Now().Add(-time.Hour))
		if err != nil || n != 0 {
			t.Fatalf("Prune of recent mail = %d, %v; want 0", n, err)
		}
		n, err = hmail.Prune(ctx, e.d, e.clock.Now().Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want 1 (the sent one)", n, err)
		}
		if r := e.only(t); r.state != hmail.StateQueued {
			t.Errorf("left %s, want the queued message", r.state)
		}
	})
}

func TestRunWithoutSMTPWarnsOnceAndKeepsMailQueued(t *testing.T) {
	e := newEnv(t, "sqlite")
	dl := e.deliverer(hmail.SMTPConfig{})
	dl.PollInterval = 10 * time.Millisecond
	link := "https://desk.example.com/reset/" + unique("")
	e.send(t, e.message("a@example.com", "Reset", link))
	runFor(dl, 100*time.Millisecond)
	logs := e.logs.String()
	if strings.Count(logs, "HESAR_SMTP_HOST") != 1 {
		t.Errorf("want one warning naming HESAR_SMTP_HOST, logs:\n%s", logs)
	}
	if strings.Contains(logs, link) || strings.Contains(logs, "a@example.com") {
		t.Error("the log holds the message")
	}
	if r := e.only(t); r.state != hmail.StateQueued || r.attempts != 0 {
		t.Errorf("row %s after %d attempts, want queued and untouched", r.state, r.attempts)
	}
	if _, err := dl.DeliverDue(ctx); !errors.Is(err, hmail.ErrNotConfigured) {
		t.Errorf("DeliverDue = %v, want ErrNotConfigured", err)
	}
}

func TestRunSendsAtOnceWhenMailIsQueued(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		dl := e.deliverer(config(srv, hmail.SecuritySTARTTLS))
		dl.Now = nil                // real time
		dl.PollInterval = time.Hour // only a wake can deliver in time
		done := make(chan struct{})
		runCtx, cancel := contextWithCancel()
		go func() { dl.Run(runCtx); close(done) }()
		defer func() { cancel(); <-done }()
		time.Sleep(50 * time.Millisecond) // let Run finish its first, empty pass
		e.send(t, e.message("now@example.com", "Hi", "x"))
		srv.WaitFor(t, func(r smtpd.Received) bool { return r.To[0] == "now@example.com" }, 5*time.Second)
	})
}

func TestMessageParsesAsRFC5322(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
	e.send(t, e.message("a@example.com", "=?utf-8?q?looks_encoded?=", "x"))
	deliver(t, e.deliverer(config(srv, hmail.SecuritySTARTTLS)))
	got := srv.WaitFor(t, func(smtpd.Received) bool { return true }, 5*time.Second)
	if got.Subject != "=?utf-8?q?looks_encoded?=" {
		t.Errorf("an ASCII subject that looks encoded arrived as %q", got.Subject)
	}
	if _, err := mail.ReadMessage(bytes.NewReader(got.Data)); err != nil {
		t.Error(err)
	}
}
