package mail_test

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/mail"
)

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// runFor runs dl for d and waits for Run to return.
func runFor(dl *mail.Deliverer, d time.Duration) {
	c, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	dl.Run(c)
}
