// Command train is failcast's nightly training job: it reads the history
// dataset, builds point-in-time features, trains the failure and
// error-family models with baselines for comparison, evaluates them on the
// most recent days and publishes the result to the model registry if it is
// at least as good as the champion. See docs/train.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}
