//go:build !windows

package eventlog

import (
	"context"
	"log/slog"
)

// Run subscribes to every channel and sends events until ctx ends. There is
// no event log here: it returns ErrUnsupported at once.
func Run(ctx context.Context, cfg Config, bookmarks map[string]string, out chan<- Event, logger *slog.Logger) error {
	return ErrUnsupported
}
