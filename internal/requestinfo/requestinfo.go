// Package requestinfo carries who is asking, and from where, through a
// request's context, so that services deep below the HTTP layer can record
// it (in the audit log) without every function taking it as an argument.
package requestinfo

import "context"

// Info describes the caller of one request.
type Info struct {
	// ActorKind is "user", "customer", "token" owner kinds as the audit log
	// names them, "system" for Hesar itself, or "anonymous".
	ActorKind string
	ActorID   int64
	TokenID   int64
	SessionID int64
	IP        string
	UserAgent string
	RequestID string
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's info; outside a request it is the system.
func From(ctx context.Context) Info {
	if info, ok := ctx.Value(key{}).(Info); ok {
		return info
	}
	return Info{ActorKind: "system"}
}
