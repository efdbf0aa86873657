package attachment_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestStagedFilesAreKeptOnlyWithTheirMessage: files staged for a message
// are invisible until the message's write records them; a write that
// fails removes them; and a rotation that retires the key they were
// sealed under while they waited moves them to the active key instead of
// failing the message.
func TestStagedFilesAreKeptOnlyWithTheirMessage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newFilesEnv(t, a)
		sys := e.f.System()
		pol, err := a.Attachments.Policy(ctx, e.f.WS.ID)
		if err != nil {
			t.Fatal(err)
		}
		stage := func(name string, body []byte) *attachment.Staged {
			t.Helper()
			f, err := a.Attachments.Stage(ctx, sys, pol, name, bytes.NewReader(body))
			if err != nil {
				t.Fatalf("stage %s: %v", name, err)
			}
			return f
		}

		// A write that fails (a message with no body) keeps nothing.
		files := []*attachment.Staged{stage("a.txt", content(100)), stage("b.txt", content(200))}
		if n := len(e.blobFiles(t)); n != 2 {
			t.Fatalf("%d blobs after staging two files", n)
		}
		err = a.Attachments.Commit(ctx, files, func() error {
			_, err := a.Tickets.AddMessage(ctx, sys, e.ticket, ticket.NewMessage{Kind: ticket.KindReply, InWrite: a.Attachments.Recorder(sys, files)})
			return err
		})
		if err == nil {
			t.Fatal("a message without a body was added")
		}
		if n := len(e.blobFiles(t)); n != 0 {
			t.Fatalf("%d blobs left after the message failed", n)
		}

		// A refused file says which, and leaves nothing.
		if _, err := a.Attachments.Stage(ctx, sys, pol, "run.pdf", bytes.NewReader([]byte("MZ\x90\x00 this program"))); err == nil {
			t.Fatal("an executable was staged")
		} else if se := (*attachment.StageError)(nil); !errors.As(err, &se) || se.Name != "run.pdf" {
			t.Fatalf("refusal %v does not name the file", err)
		}
		if n := len(e.blobFiles(t)); n != 0 {
			t.Fatalf("%d blobs left by a refused file", n)
		}

		// Staged under version 1; version 1 retired before the message is
		// written: the file moves to version 2 and the message goes in.
		body := content(5000)
		files = []*attachment.Staged{stage("kept.bin", body)}
		if v, err := a.Keys.Rotate(ctx, e.f.WS.ID); err != nil || v != 2 {
			t.Fatalf("rotate: %d %v", v, err)
		}
		// A ticket and its customer sealed under version 2, as every value
		// is by the time version 1 retires (the customer is read while the
		// reply is written, to mail them).
		cust, err := a.Customers.Create(ctx, sys, customer.NewCustomer{Email: "after-rotation@example.com", Name: "Rotated"})
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := a.Tickets.Create(ctx, sys, ticket.NewTicket{Subject: "after the rotation", Body: "b", DepartmentID: e.f.Finance, CustomerID: cust.ID})
		if err != nil {
			t.Fatal(err)
		}
		exec(t, a, `UPDATE workspace_keys SET state = 'retired' WHERE workspace_id = $1 AND purpose = 'data' AND version = 1`, e.f.WS.ID)
		var msg ticket.Message
		writes := 0
		err = a.Attachments.Commit(ctx, files, func() error {
			writes++
			var err error
			msg, err = a.Tickets.AddMessage(ctx, sys, fresh.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "with a file", InWrite: a.Attachments.Recorder(sys, files)})
			return err
		})
		if err != nil || writes != 2 {
			t.Fatalf("commit after the rotation: %v (%d writes, want 2)", err, writes)
		}
		list, err := a.Attachments.List(ctx, sys, fresh.Number, 0, attachment.MaxPage)
		if err != nil || len(list) != 1 || list[0].MessageID != msg.ID || list[0].Name != "kept.bin" || list[0].Size != 5000 {
			t.Fatalf("files of the ticket: %+v %v", list, err)
		}
		_, rc, err := a.Attachments.Open(ctx, sys, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("the moved file reads back wrong: %d bytes, %v", len(got), err)
		}
		if n := len(e.blobFiles(t)); n != 1 {
			t.Errorf("%d blobs on disk for one file", n)
		}
		msgs, err := a.Tickets.Messages(ctx, sys, fresh.Number, 0, 10)
		if err != nil || len(msgs) != 2 {
			t.Errorf("messages: %d %v, want the first and the one with the file", len(msgs), err)
		}
	})
}
