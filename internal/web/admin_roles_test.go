package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

func TestRolesPageShowsWhatEachRoleMayDoAndWhoHoldsIt(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		gone := e.staff("agent", "kaveh", passphrase, e.f.Sales)
		c := e.signInStaff("en", admin.Email, passphrase)
		// A disabled account is not counted.
		path := "/admin/users/" + strconv.FormatInt(gone.ID, 10)
		c.post(path, url.Values{"name": {"kaveh"}, "role": {"agent"}, "disabled": {"on"}, "confirm": {"yes"}}).redirect(t, path)

		want := map[access.Role]int{}
		us, err := a.Identity.ListUsers(ctx, e.f.System(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if !u.Disabled {
				want[u.Role]++
			}
		}
		p := c.get("/admin/roles").page(t, "en")
		for _, ro := range access.Roles {
			m := regexp.MustCompile(`id="role-` + string(ro) + `">[^<]+<br><span class="hint">(\d+) active<`).FindStringSubmatch(p.body)
			if m == nil || m[1] != strconv.Itoa(want[ro]) {
				t.Errorf("%s: shown %v, want %d active", ro, m, want[ro])
			}
		}
		// Every permission a role can hold is explained, and the marks
		// follow the policy in internal/access.
		for _, perm := range access.AllPermissions {
			if perm == access.PortalTickets {
				continue
			}
			row := regexp.MustCompile(`(?s)<tr id="perm-` + regexp.QuoteMeta(string(perm)) + `">(.*?)</tr>`).FindStringSubmatch(p.body)
			if row == nil {
				t.Errorf("%s is not on the page", perm)
				continue
			}
			marks := regexp.MustCompile(`visually-hidden">(Yes|No)<`).FindAllStringSubmatch(row[1], -1)
			if len(marks) != len(access.Roles) {
				t.Fatalf("%s: %d marks", perm, len(marks))
			}
			for i, ro := range access.Roles {
				if got, has := marks[i][1] == "Yes", access.ForUser(1, 1, ro, nil).Can(perm); got != has {
					t.Errorf("%s for %s shown %v, policy says %v", perm, ro, got, has)
				}
			}
		}
		if !strings.Contains(p.body, "see only the tickets of the departments they belong to") {
			t.Error("department scoping is not explained")
		}
		f := e.signInStaff("fa", admin.Email, passphrase).get("/admin/roles").page(t, "fa")
		if !strings.Contains(f.body, "نقش‌ها و دسترسی‌ها") || !strings.Contains(f.body, "سپردن تیکت به یک همکار") {
			t.Errorf("Persian roles page: %.2000s", f.body)
		}

		// The way there: the admin home and the role selector on a user's page.
		if !strings.Contains(c.get("/admin/").page(t, "en").body, `href="/admin/roles"`) {
			t.Error("no link on the admin home")
		}
		if !strings.Contains(c.get("/admin/users/"+strconv.FormatInt(agent.ID, 10)).page(t, "en").body, `<a href="/admin/roles" id="roles-link">What can each role do?</a>`) {
			t.Error("no link beside the role selector")
		}

		// Every staff member may read the policy (user.read, as the API's
		// user list); customers may not.
		e.signInStaff("en", agent.Email, passphrase).get("/admin/roles").page(t, "en")
		e.customerPassword(e.f.Customer.ID, passphrase)
		cu := e.client("en")
		cu.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {passphrase}}).redirect(t, "/portal/")
		cu.get("/admin/roles").must(t, http.StatusForbidden)
		e.client("en").get("/admin/roles").redirect(t, "/console/signin")
	})
}
