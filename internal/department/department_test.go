package department_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/requestinfo"
	"github.com/hesar/hesar/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

// Membership decides who sees which tickets: every change to a department
// leaves exactly one record, written with the change, naming ids only.
func TestEveryDepartmentChangeLeavesOneRecordAndTheChainHolds(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		admin := f.Scope(t, "admin")
		ctx := requestinfo.With(context.Background(), requestinfo.Info{ActorKind: audit.ActorUser, ActorID: admin.ActorID, IP: "203.0.113.7"})
		ds := a.Departments
		user := strconv.FormatInt(f.SalesAgent.ID, 10)

		d, err := ds.Create(ctx, admin, "Support")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ds.Rename(ctx, admin, d.ID, "Help"); err != nil {
			t.Fatal(err)
		}
		for _, member := range []bool{true, true, false, false} { // the second of each changes nothing
			if err := ds.SetMember(ctx, admin, d.ID, f.SalesAgent.ID, member); err != nil {
				t.Fatal(err)
			}
		}
		// Failures change nothing and record nothing.
		var conflict *errs.Conflict
		if _, err := ds.Create(ctx, admin, "Help"); !errors.As(err, &conflict) {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, err := ds.Rename(ctx, admin, d.ID, ""); err == nil {
			t.Fatal("empty name accepted")
		}
		if err := ds.SetMember(ctx, admin, d.ID, 999999999, true); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		if err := ds.SetMember(ctx, f.Scope(t, "sales_agent"), d.ID, f.SalesAgent.ID, true); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("agent: %v", err)
		}

		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		rs, err := a.Audit.List(ctx, f.WS.ID, audit.Filter{Action: "department."})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ action, user string }{
			{department.ActionMemberRemoved, user}, {department.ActionMemberAdded, user},
			{department.ActionRenamed, ""}, {department.ActionCreated, ""},
		}
		var got []audit.Record
		for _, r := range rs {
			if r.TargetID == d.ID {
				got = append(got, r)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d records of the department, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want { // newest first
			r := got[i]
			if r.Action != w.action || r.TargetKind != "department" || r.ActorKind != audit.ActorUser || r.ActorID != admin.ActorID ||
				r.Result != audit.ResultOK || r.Details["user_id"] != w.user || r.IP != "203.0.113.7" {
				t.Errorf("record %d: %+v, want %s for user %q", i, r, w.action, w.user)
			}
			for k := range r.Details {
				if k != "user_id" && (r.Action != department.ActionRenamed || k != "name" && k != "name_from") {
					t.Errorf("record %d holds detail %q", i, k)
				}
			}
			if r.Action == department.ActionRenamed && (r.Details["name_from"] != "Support" || r.Details["name"] != "Help") {
				t.Errorf("the rename's record says %q → %q, want Support → Help", r.Details["name_from"], r.Details["name"])
			}
		}
		rep, err := a.Audit.Verify(ctx, f.WS.ID, nil)
		if err != nil || !rep.OK {
			t.Fatalf("chain: %+v %v", rep, err)
		}
	})
}
