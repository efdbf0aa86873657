package monitor

import (
	"strconv"
	"time"
)

// Names in Alert.Details, and the values pages choose their words by.
//
// Each rule fills these (all values are plain strings; durations are in
// whole seconds, accounts "kind:id"; nothing personal: no names, emails
// or addresses, which stay in the sealed evidence):
//
//	brute_force           attempts, addresses, window_seconds, threshold
//	password_spraying     accounts, attempts, window_seconds, threshold
//	impossible_travel     distance_km, speed_kmh, interval_seconds, threshold_kmh
//	concurrent_countries  interval_seconds
//	new_signin            new, window_seconds
//	exfiltration          access_kind, count, threshold, window_seconds, ceiling, factor, baseline_per_hour
//	mfa_removed           factor (when known), by (when someone else did it)
//	recovery_code_used    (nothing beyond the account)
//	privilege_raised      from, to, by (when someone else did it)
//	wide_token            token_id, permissions (the wide ones, space-separated, or
//	                      "admin": all of its admin owner's), by (when someone else did it)
//	admin_off_hours       weekday (0 = Sunday), local_time, time_zone, start, end
//	policy_weakened       policy, weakened (setting names, space-separated), and
//	                      each weakened setting's value and, under "<name>_from", the old one
const (
	// DetailAccessKind is the kind of access an exfiltration alert counts
	// (one of AccessKinds).
	DetailAccessKind = "access_kind"
	// DetailRoleTo is the role a privilege_raised alert's account was
	// raised to.
	DetailRoleTo = "to"
	// DetailNew is what a new_signin alert saw for the first time:
	// NewDevice, NewCountry or NewDeviceCountry.
	DetailNew = "new"
	// DetailPolicy is which policy a policy_weakened alert is about:
	// PolicySignIn or PolicyDataProtection.
	DetailPolicy = "policy"
)

// Values of DetailNew.
const (
	NewDevice        = "device"
	NewCountry       = "country"
	NewDeviceCountry = "device_country"
)

// Values of DetailPolicy.
const (
	PolicySignIn         = "sign_in"
	PolicyDataProtection = "data_protection"
)

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

func itoa(n int) string { return strconv.Itoa(n) }
