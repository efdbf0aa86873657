package monitor_test

import (
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestWeakerDataProtectionAlertsApartFromTheSignInPolicy drives the real
// attachment service: the details of its change are what the detector
// reads, so a renamed key fails here.
func TestWeakerDataProtectionAlertsApartFromTheSignInPolicy(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		admin := e.f.Scope(t, "admin")
		set := func(d attachment.DataProtection, kind access.ActorKind) {
			t.Helper()
			c, err := a.Attachments.SetDataProtection(ctx, admin, d)
			if err != nil {
				t.Fatal(err)
			}
			e.observe(monitor.Observation{Type: monitor.DataProtectionChanged, At: base, ActorKind: kind, ActorID: admin.ActorID,
				IP: tehranIP, Details: c.Details()})
		}
		strict := attachment.DataProtection{Masking: ticket.PolicyRedact, Attachments: attachment.Policy{MaxBytes: 10 << 20, Dangerous: attachment.Block}}
		set(strict, access.ActorUser)
		set(strict, access.ActorUser)
		if as := e.alerts(monitor.RulePolicyWeakened); len(as) != 0 {
			t.Fatalf("a stricter or unchanged setting raised %+v", as)
		}
		// Hesar itself is not questioned.
		set(attachment.DataProtection{Masking: ticket.PolicyMask, Attachments: strict.Attachments}, access.ActorSystem)
		set(strict, access.ActorUser)
		if as := e.alerts(monitor.RulePolicyWeakened); len(as) != 0 {
			t.Fatalf("a change by the system raised %+v", as)
		}

		// A sign-in policy weakening by the same admin is another alert.
		e.observe(policy(admin.ActorID, defaultPolicy, [4]string{"none", "30", "12", "100"}))
		set(attachment.DataProtection{Masking: ticket.PolicyMask, Attachments: attachment.Policy{MaxBytes: 50 << 20, Dangerous: attachment.DownloadOnly}},
			access.ActorUser)
		as := e.alerts(monitor.RulePolicyWeakened)
		if len(as) != 2 {
			t.Fatalf("want a sign-in and a data-protection alert, got %+v", as)
		}
		var got *monitor.Alert
		for i := range as {
			if as[i].Title == "Data protection weakened by user #"+itoa(admin.ActorID) {
				got = &as[i]
			}
		}
		if got == nil || got.Severity != monitor.High || got.AccountID != admin.ActorID {
			t.Fatalf("no data-protection alert about the admin: %+v", as)
		}
		mustContain(t, got.Explanation, "kept, encrypted, for reveals instead of removed for good",
			"stored as download-only instead of refused", "upload limit was raised from 10 MiB to 50 MiB", "audit log")

		// Each change alone is a weakening too.
		cases := map[string]struct {
			from, to map[string]string
			says     string
		}{
			"limit":     {map[string]string{"max_bytes_from": "26214400"}, map[string]string{"max_bytes": "27262976"}, "from 25 MiB to 26 MiB"},
			"dangerous": {map[string]string{"dangerous_from": "block"}, map[string]string{"dangerous": "download-only"}, "download-only"},
			"masking":   {map[string]string{"masking_from": "redact"}, map[string]string{"masking": "mask"}, "removed for good"},
			"lower":     {map[string]string{"max_bytes_from": "26214400"}, map[string]string{"max_bytes": "1048576"}, ""},
			"stricter":  {map[string]string{"dangerous_from": "download-only", "masking_from": "mask"}, map[string]string{"dangerous": "block", "masking": "redact"}, ""},
		}
		id := int64(900000) // accounts only the detector knows: one per case, so each opens its own alert
		for name, c := range cases {
			id++
			d := map[string]string{}
			for k, v := range c.from {
				d[k] = v
			}
			for k, v := range c.to {
				d[k] = v
			}
			e.observe(monitor.Observation{Type: monitor.DataProtectionChanged, At: base, ActorKind: access.ActorUser, ActorID: id, IP: tehranIP, Details: d})
			var found *monitor.Alert
			for _, al := range e.alerts(monitor.RulePolicyWeakened) {
				if al.AccountID == id {
					found = &al
				}
			}
			switch {
			case c.says == "" && found != nil:
				t.Errorf("%s: raised %+v", name, found)
			case c.says != "" && found == nil:
				t.Errorf("%s: raised nothing", name)
			case c.says != "":
				mustContain(t, found.Explanation, c.says)
			}
		}
	})
}
