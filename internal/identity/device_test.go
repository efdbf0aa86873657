package identity

import "testing"

func TestDevicePartsAreReadFromTheUserAgent(t *testing.T) {
	cases := []struct {
		ua    string
		want  Device
		label string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", Device{"chrome", "linux"}, "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", Device{"firefox", "windows"}, "Firefox on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1", Device{"safari", "iphone"}, "Safari on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0", Device{"edge", "windows"}, "Edge on Windows"},
		{"curl/8.5.0", Device{Browser: "curl"}, "curl"},
		{"Mozilla/5.0 (Linux)", Device{System: "linux"}, "Linux"},
		{"", Device{}, "Unknown device"},
		{"something odd", Device{}, "Unknown device"},
	}
	for _, c := range cases {
		got := ParseDevice(c.ua)
		if got != c.want {
			t.Errorf("%q: parts %+v, want %+v", c.ua, got, c.want)
		}
		if s := DescribeDevice(c.ua); s != c.label {
			t.Errorf("%q: label %q, want %q (the monitor matches stored labels word for word)", c.ua, s, c.label)
		}
		back, ok := ParseDeviceLabel(c.label)
		if !ok || back != c.want {
			t.Errorf("label %q read back as %+v (ok %v), want %+v", c.label, back, ok, c.want)
		}
	}
}

func TestEveryKnownDeviceLabelReadsBack(t *testing.T) {
	for _, b := range append([]string{""}, DeviceBrowsers()...) {
		for _, o := range append([]string{""}, DeviceSystems()...) {
			d := Device{b, o}
			if back, ok := ParseDeviceLabel(d.String()); !ok || back != d {
				t.Errorf("%+v -> %q -> %+v (ok %v)", d, d.String(), back, ok)
			}
		}
	}
	if _, ok := ParseDeviceLabel("Netscape on BeOS"); ok {
		t.Error("an unknown label read as known")
	}
}
