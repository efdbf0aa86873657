package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
)

// TestBrowserInvitedAgentChoosesPasswordAndEnrolls: an admin (with an
// authenticator app, as the workspace requires of staff) invites a new
// agent from the English admin pages; the agent opens the emailed link in
// Persian, chooses a password, signs in, is sent to set up an
// authenticator app, does so and reaches the queue.
func TestBrowserInvitedAgentChoosesPasswordAndEnrolls(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		e.requireMFA()
		ws := e.f.WS.Slug
		const pw = "a passphrase long enough to pass"
		admin, secret := e.staffWithTOTP("admin", "Roya", pw)

		b := newBrowser(t, browserCtx, e.url, shots)
		b.open("/lang/en?next=/console/signin?workspace="+ws, "title.signin_staff")
		b.do(fill("#f-email", admin.Email, "#f-password", pw))
		b.submit(`form[action="/console/signin"] button`, "title.mfa")
		b.do(fill("#f-code", totpCode(t, secret, time.Now().Add(30*time.Second))))
		b.submit(`form[action="/auth/mfa"] button[type=submit]`, "title.queue")
		b.open("/admin/users/new", "title.admin_new_user")
		b.shot("admin-user-new")
		email := "leila-" + ws + "@staff.test"
		b.do(fill("#f-email", email, "#f-name", "لیلا"), chromedp.SetValue(chromedp.CSS("#f-role"), "agent"),
			chromedp.Click(chromedp.CSS(`input[name=departments][value="`+strconv.FormatInt(e.f.Sales, 10)+`"]`)))
		b.submit(`form[action="/admin/users"] button[type=submit]`, "title.admin_user")
		b.seeText(".notice", msg(t, "en", "notice.user_invited"))
		id := mustAtoi(t, strings.TrimPrefix(b.eval(`location.pathname`).(string), "/admin/users/"))

		_, link := e.mailedLink(email, "/auth/reset-password")
		// One invitation, one link: a second mail would leave the first
		// one's link dead, and the person may well open the first.
		invitations := 0
		for _, m := range e.smtp.Messages() {
			if len(m.To) == 1 && strings.EqualFold(m.To[0], email) && strings.Contains(m.Body, "/auth/reset-password?token=") {
				invitations++
			}
		}
		if invitations != 1 {
			t.Fatalf("%d invitation mails were sent to the new agent; only the newest link works", invitations)
		}
		n := newBrowser(t, browserCtx, e.url, shots)
		n.open("/lang/fa?next=/", "title.home")
		n.open(link, "title.reset_password")
		n.seeText("h1", msg(t, "fa", "title.reset_password"))
		n.shot("invitation")
		const agentPw = "گذرواژه‌ی تازه برای میز کمک حصار"
		n.do(fill("#f-password", agentPw))
		n.submitSee(`form[action="/auth/reset-password"] button`, ".notice", msg(t, "fa", "title.reset_password.done"))
		n.submit(`main a[href="/console/signin"]`, "title.signin_staff")
		n.do(fill("#f-workspace", ws, "#f-email", email, "#f-password", agentPw))
		n.submit(`form[action="/console/signin"] button`, "title.enroll")
		if got := n.text("main"); !strings.Contains(got, msg(t, "fa", "enroll.required")) {
			t.Fatalf("the enrollment page does not say it is required: %q", got)
		}
		n.shot("enroll-required")
		// Nothing else opens before the second factor is set up.
		n.open("/console/", "title.enroll")
		n.submitThen(`form[action="/auth/enroll/totp"] button`, "#totp-secret")
		n.do(fill("#f-code", totpCode(t, n.text("#totp-secret"), time.Now())))
		n.submitThen(`form[action="/auth/enroll/confirm"] button`, ".codes")
		n.seeText(".notice", msg(t, "fa", "enroll.done"))
		if k := n.eval(`document.querySelectorAll('.codes code').length`); k != float64(10) {
			t.Fatalf("%v recovery codes shown", k)
		}
		n.submit(`main a.button`, "title.queue")
		n.seeText("h1", msg(t, "fa", "queue.heading"))
		u, err := a.Identity.GetUser(context.Background(), e.f.System(), id)
		if err != nil || u.Name != "لیلا" || u.Role != "agent" || len(u.Departments) != 1 || u.Departments[0] != e.f.Sales {
			t.Fatalf("the invited user is %+v (%v)", u, err)
		}
	})
}
