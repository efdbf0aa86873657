// Package geoip turns a client address into an approximate place (country,
// city, coordinates) from a MaxMind-format database (GeoLite2-City or
// GeoIP2-City .mmdb), for session lists and the impossible-travel
// detector. Without a database every address is "unknown".
package geoip

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Place is where an address appears to be. Zero fields are unknown.
type Place struct {
	Country   string // ISO 3166-1 alpha-2, e.g. "IR"
	City      string // English name, e.g. "Tehran"
	Latitude  float64
	Longitude float64
	// RadiusKm is the database's accuracy radius (0 when not given).
	RadiusKm float64
	// HasLocation says the coordinates are known.
	HasLocation bool
}

// Known reports whether anything was found.
func (p Place) Known() bool { return p.Country != "" || p.HasLocation }

// String names the place for people: "Tehran, IR", "IR", or "".
func (p Place) String() string {
	switch {
	case p.City != "" && p.Country != "":
		return p.City + ", " + p.Country
	case p.Country != "":
		return p.Country
	}
	return ""
}

// DistanceKm is the great-circle distance between two places with
// coordinates (haversine on a 6,371 km sphere).
func DistanceKm(a, b Place) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat := (b.Latitude - a.Latitude) * rad
	dLon := (b.Longitude - a.Longitude) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Locator finds places. The zero value of *DB (nil) finds nothing.
type Locator interface {
	Locate(ip string) Place
}

// DB is an open .mmdb file.
type DB struct {
	r *maxminddb.Reader
}

// Open reads a MaxMind-format city database.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: %w (give a GeoLite2-City or GeoIP2-City .mmdb file)", path, err)
	}
	if t := r.Metadata.DatabaseType; !strings.Contains(strings.ToLower(t), "city") && !strings.Contains(strings.ToLower(t), "country") {
		r.Close()
		return nil, fmt.Errorf("GeoIP database %s is of type %q; Hesar needs a City or Country database", path, t)
	}
	return &DB{r: r}, nil
}

// Close releases the file.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	return d.r.Close()
}

type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude       *float64 `maxminddb:"latitude"`
		Longitude      *float64 `maxminddb:"longitude"`
		AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
}

// Locate returns the place of ip; unknown addresses (private ranges, bad
// input, no database) give the zero Place.
func (d *DB) Locate(ip string) Place {
	if d == nil {
		return Place{}
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.IsPrivate() || a.IsLoopback() || a.IsUnspecified() {
		return Place{}
	}
	var rec cityRecord
	res := d.r.Lookup(a.Unmap())
	if !res.Found() {
		return Place{}
	}
	if err := res.Decode(&rec); err != nil {
		return Place{}
	}
	p := Place{Country: rec.Country.ISOCode, City: rec.City.Names["en"], RadiusKm: float64(rec.Location.AccuracyRadius)}
	if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		p.Latitude, p.Longitude, p.HasLocation = *rec.Location.Latitude, *rec.Location.Longitude, true
	}
	return p
}
