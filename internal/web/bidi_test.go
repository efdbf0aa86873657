package web

import "testing"

func TestIsolateMaskedKeepsMaskedValuesWholeAndEscapesTheRest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"no mask here <b>", "no mask here &lt;b&gt;"},
		{"کارت ۶۰۳۷۹۹••••••۷۸۹۳ است", `کارت <bdi dir="ltr">۶۰۳۷۹۹••••••۷۸۹۳</bdi> است`},
		{"card 6037 99•• •••• 7893, thanks", `card <bdi dir="ltr">6037 99•• •••• 7893</bdi>, thanks`},
		{"شبا IR•• •••• •••• 1234 و <script>", `شبا <bdi dir="ltr">IR•• •••• •••• 1234</bdi> و &lt;script&gt;`},
		{"کد •••• و 1234", `کد <bdi dir="ltr">••••</bdi> و 1234`},
		{"two: 1111-22••-•••• and ••••", `two: <bdi dir="ltr">1111-22••-••••</bdi> and <bdi dir="ltr">••••</bdi>`},
	} {
		if got := string(isolateMasked(c.in)); got != c.want {
			t.Errorf("isolateMasked(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}
