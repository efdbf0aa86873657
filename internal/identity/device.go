package identity

import "strings"

// Device is what a User-Agent header says about the device behind it, as
// stable identifiers ("chrome", "linux") that pages name in their own
// language. Empty fields are unknown.
type Device struct {
	Browser, System string
}

// A known browser or system: the User-Agent token that reveals it, its
// identifier and its English name (the one DescribeDevice writes).
type deviceName struct{ token, id, name string }

// Browsers in the order they are looked for: tokens of derived browsers
// come before Chrome's and Safari's, which they also carry.
var browsers = []deviceName{
	{"HeadlessChrome/", "headless_chrome", "Headless Chrome"}, {"Edg/", "edge", "Edge"}, {"OPR/", "opera", "Opera"},
	{"SamsungBrowser/", "samsung", "Samsung Internet"}, {"Firefox/", "firefox", "Firefox"}, {"FxiOS/", "firefox", "Firefox"},
	{"CriOS/", "chrome", "Chrome"}, {"Chromium/", "chromium", "Chromium"}, {"Chrome/", "chrome", "Chrome"},
	{"Safari/", "safari", "Safari"}, {"curl/", "curl", "curl"}, {"Go-http-client/", "go", "Go program"},
}

var systems = []deviceName{
	{"Android", "android", "Android"}, {"iPhone", "iphone", "iPhone"}, {"iPad", "ipad", "iPad"}, {"Windows", "windows", "Windows"},
	{"Mac OS X", "macos", "macOS"}, {"CrOS", "chromeos", "ChromeOS"}, {"Linux", "linux", "Linux"},
}

// DeviceBrowsers and DeviceSystems list every identifier ParseDevice can
// return, for pages that need a name for each.
func DeviceBrowsers() []string { return ids(browsers) }

// DeviceSystems lists every system identifier ParseDevice can return.
func DeviceSystems() []string { return ids(systems) }

func ids(list []deviceName) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range list {
		if !seen[d.id] {
			seen[d.id] = true
			out = append(out, d.id)
		}
	}
	return out
}

// ParseDevice names a browser and system from a User-Agent header. It is a
// label, not a fingerprint: anything unrecognised stays empty.
func ParseDevice(ua string) Device {
	var d Device
	for _, b := range browsers {
		if strings.Contains(ua, b.token) {
			d.Browser = b.id
			break
		}
	}
	for _, o := range systems {
		if strings.Contains(ua, o.token) {
			d.System = o.id
			break
		}
	}
	return d
}

func nameOf(list []deviceName, id string) string {
	for _, d := range list {
		if d.id == id {
			return d.name
		}
	}
	return ""
}

func idOf(list []deviceName, name string) string {
	for _, d := range list {
		if d.name == name {
			return d.id
		}
	}
	return ""
}

// Unknown reports whether nothing is known of the device.
func (d Device) Unknown() bool { return d.Browser == "" && d.System == "" }

// String is the device in English ("Firefox on Windows", "Unknown
// device"). It is kept word for word as it always was: the monitor stores
// it to recognise devices seen before, and old records hold it.
func (d Device) String() string {
	browser, system := nameOf(browsers, d.Browser), nameOf(systems, d.System)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return "Unknown device"
}

// DescribeDevice names a browser and system from a User-Agent header in
// English ("Firefox on Windows"), for mail and the monitor's records;
// pages show ParseDevice's parts in their own language.
func DescribeDevice(ua string) string { return ParseDevice(ua).String() }

// ParseDeviceLabel reads back a label DescribeDevice wrote (kept in
// monitor records and alerts), so pages can say it in their language. A
// label it does not know comes back unknown, ok false.
func ParseDeviceLabel(label string) (d Device, ok bool) {
	if label == "Unknown device" {
		return Device{}, true
	}
	if b, o, two := strings.Cut(label, " on "); two {
		d = Device{Browser: idOf(browsers, b), System: idOf(systems, o)}
		return d, d.Browser != "" && d.System != ""
	}
	if id := idOf(browsers, label); id != "" {
		return Device{Browser: id}, true
	}
	if id := idOf(systems, label); id != "" {
		return Device{System: id}, true
	}
	return Device{}, false
}
