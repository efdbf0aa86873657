package geoip_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/testutil/geodb"
)

func TestLocateFindsCitiesAndDistances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.mmdb")
	if err := geodb.Write(path, geodb.World); err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tehran, berlin := db.Locate("198.51.100.7"), db.Locate("203.0.113.9")
	if tehran.String() != "Tehran, IR" || berlin.String() != "Berlin, DE" || !tehran.HasLocation {
		t.Fatalf("places: %+v %+v", tehran, berlin)
	}
	if d := geoip.DistanceKm(tehran, berlin); math.Abs(d-3526) > 30 {
		t.Errorf("Tehran-Berlin %.0f km, want about 3,526", d)
	}
	if p := db.Locate("2001:db8::1"); p.City != "Shiraz" {
		t.Errorf("IPv6: %+v", p)
	}
	for _, unknown := range []string{"10.0.0.1", "127.0.0.1", "192.0.2.200", "not an address", ""} {
		if p := db.Locate(unknown); p.Known() {
			t.Errorf("%q located at %+v", unknown, p)
		}
	}
	var none *geoip.DB
	if none.Locate("198.51.100.7").Known() {
		t.Error("a nil database located something")
	}
	if _, err := geoip.Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("opened a missing file")
	}
}
