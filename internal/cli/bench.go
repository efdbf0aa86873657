package cli

import (
	"context"
	"errors"
)

func bench(ctx context.Context, io Stdio, args []string) error {
	return errors.New("not built yet")
}
