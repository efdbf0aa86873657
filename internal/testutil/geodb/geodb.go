// Package geodb builds small MaxMind-format city databases for tests.
package geodb

import (
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Place is one network of a test database.
type Place struct {
	CIDR      string
	Country   string
	City      string
	Latitude  float64
	Longitude float64
}

// Write writes a small GeoIP2-City-shaped .mmdb file with the given
// networks (tests of the travel detector build their world this way).
func Write(path string, places []Place) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		return err
	}
	for _, p := range places {
		_, network, err := net.ParseCIDR(p.CIDR)
		if err != nil {
			return fmt.Errorf("%s: %w", p.CIDR, err)
		}
		rec := mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(p.Country)},
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.Latitude), "longitude": mmdbtype.Float64(p.Longitude), "accuracy_radius": mmdbtype.Uint16(20)},
		}
		if err := tree.Insert(network, rec); err != nil {
			return fmt.Errorf("%s: %w", p.CIDR, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// World is a small world for tests: documentation address ranges placed in
// real cities.
var World = []Place{
	{CIDR: "198.51.100.0/24", Country: "IR", City: "Tehran", Latitude: 35.6892, Longitude: 51.3890},
	{CIDR: "203.0.113.0/24", Country: "DE", City: "Berlin", Latitude: 52.5200, Longitude: 13.4050},
	{CIDR: "192.0.2.0/25", Country: "IR", City: "Karaj", Latitude: 35.8400, Longitude: 50.9391},
	{CIDR: "2001:db8::/32", Country: "IR", City: "Shiraz", Latitude: 29.5918, Longitude: 52.5837},
}
