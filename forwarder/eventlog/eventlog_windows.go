//go:build windows

package eventlog

import (
	"context"
	"log/slog"
)

// Run subscribes to every channel and sends events until ctx ends, then
// returns nil. bookmarks maps a channel to its saved bookmark XML (an
// Event.Bookmark); "" or missing starts at the oldest record. A channel that
// does not exist, a bad XPath or a missing right (Security) makes Run fail
// at once, naming the channel; later failures are logged and retried.
func Run(ctx context.Context, cfg Config, bookmarks map[string]string, out chan<- Event, logger *slog.Logger) error {
	if err := loadWevtapi(); err != nil {
		return err
	}
	return run(ctx, cfg, bookmarks, out, logger, newWinAPI)
}
