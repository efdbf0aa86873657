package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP finds the address a request came from: the connection's peer,
// or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not itself a trusted proxy. Headers from
// anyone else are ignored, since any client can write them.
type ClientIP struct {
	trusted []netip.Prefix
}

// NewClientIP trusts X-Forwarded-For from peers in these networks.
func NewClientIP(trusted []netip.Prefix) ClientIP { return ClientIP{trusted: trusted} }

// ParseTrustedProxies reads comma-separated CIDRs or single addresses.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (c ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of returns r's client address (the zero Addr when even the peer's
// address cannot be read, as with some test transports).
func (c ClientIP) Of(r *http.Request) netip.Addr {
	addr := parseAddr(r.RemoteAddr)
	if !addr.IsValid() || len(c.trusted) == 0 || !c.isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseAddr(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			// A forged or mangled entry: stop at the last hop we trust.
			return addr
		}
		addr = hop
		if !c.isTrusted(hop) {
			return hop
		}
	}
	return addr
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port".
func parseAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// RateKey is the rate-limit key for a client address: IPv4 addresses one
// by one, IPv6 by /64, since one subscriber usually holds a whole /64 and
// could otherwise dodge the limit by changing addresses.
func RateKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
