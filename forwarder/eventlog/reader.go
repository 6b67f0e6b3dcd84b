package eventlog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"vigie/record"
)

// handle is an EVT_HANDLE; 0 is none.
type handle uintptr

// Subscription flags (EVT_SUBSCRIBE_FLAGS, winevt.h).
const (
	evtSubscribeStartAtOldestRecord = 2
	evtSubscribeStartAfterBookmark  = 3
	evtSubscribeStrict              = 0x10000
)

// api is the part of wevtapi.dll one channel reader uses, with the signal
// event of its subscription. wevtapi_windows.go implements it; the tests
// fake it, which is how the reader's logic (bookmarks, stale result sets,
// batch shrinking, handle closing) runs on Linux. Errors are *apiError.
type api interface {
	// subscribe is EvtSubscribe(nil session, signal, nil path, query,
	// bookmark, nil, nil, flags).
	subscribe(query string, bookmark handle, flags uint32) (handle, error)
	// next is EvtNext(sub, len(events), events, 0, 0, &n).
	next(sub handle, events []handle) (int, error)
	// wait blocks until the subscription's signal is set (it is then
	// reset: true) or the timeout passes (false).
	wait(timeout time.Duration) (bool, error)
	renderXML(event handle) (string, error)
	createBookmark(bookmarkXML string) (handle, error) // "" = an empty bookmark
	updateBookmark(bookmark, event handle) error
	renderBookmark(bookmark handle) (string, error)
	// openPublisher is EvtOpenPublisherMetadata for the provider name.
	openPublisher(provider string) (handle, error)
	// formatMessage is EvtFormatMessage(EvtFormatMessageEvent).
	formatMessage(publisher, event handle) (string, error)
	close(h handle)
	// release frees what the api itself holds (the signal event).
	release()
}

// Timing of the reader loop; variables so the tests can shorten them.
var (
	waitTimeout = time.Second      // ctx cancellation is seen within this
	backoffMin  = time.Second      // after a failed (re)subscription
	backoffMax  = 30 * time.Second //
)

// reader follows one channel.
type reader struct {
	api     api
	cfg     Config
	channel string
	query   string
	log     *slog.Logger

	sub        handle
	bookmark   handle // the position: the last event taken, or the saved one
	positioned bool   // bookmark holds a position (else: start at oldest)
	lastBM     string // bookmark XML of the last event sent
	batch      int
	events     []handle
	publishers map[string]handle // provider → metadata; 0 = has none (cached failure)
	now        func() time.Time
}

func newReader(a api, cfg Config, channel, savedBookmark string, log *slog.Logger) *reader {
	r := &reader{
		api: a, cfg: cfg, channel: channel, query: buildQuery(channel, cfg.XPath),
		log: log.With("channel", channel), batch: cfg.BatchSize,
		publishers: make(map[string]handle), now: time.Now, lastBM: savedBookmark,
	}
	r.events = make([]handle, r.batch)
	return r
}

// open makes the bookmark handle and the first subscription. Errors name the
// channel; a saved bookmark that cannot be used is a warning, not an error.
func (r *reader) open(savedBookmark string) error {
	if savedBookmark != "" {
		bi, err := checkBookmark(savedBookmark, r.channel)
		if err == nil {
			var h handle
			if h, err = r.api.createBookmark(savedBookmark); err == nil {
				r.bookmark, r.positioned = h, true
				r.log.Info("resuming after the saved bookmark", "record_id", bi.RecordID)
			}
		}
		if err != nil {
			r.log.Warn("saved bookmark unusable: reading from the oldest record", "err", err)
			r.lastBM = ""
		}
	}
	if r.bookmark == 0 {
		h, err := r.api.createBookmark("")
		if err != nil {
			return subscribeError(r.channel, r.cfg.XPath, err)
		}
		r.bookmark = h
	}
	return r.subscribe()
}

// subscribe subscribes after the bookmark when there is a position, falling
// back to the oldest record when the bookmarked event is gone (log cleared
// or overwritten); from the oldest record otherwise.
func (r *reader) subscribe() error {
	if r.positioned {
		h, err := r.api.subscribe(r.query, r.bookmark, evtSubscribeStartAfterBookmark|evtSubscribeStrict)
		if err == nil {
			r.sub = h
			return nil
		}
		if isQueryOrAccessError(codeOf(err)) {
			return subscribeError(r.channel, r.cfg.XPath, err)
		}
		r.log.Warn("bookmarked event no longer in the log (cleared or overwritten?): reading from the oldest record; events in between may be lost", "err", err)
	}
	h, err := r.api.subscribe(r.query, 0, evtSubscribeStartAtOldestRecord)
	if err != nil {
		return subscribeError(r.channel, r.cfg.XPath, err)
	}
	r.sub = h
	return nil
}

func (r *reader) closeSub() {
	if r.sub != 0 {
		r.api.close(r.sub)
		r.sub = 0
	}
}

// shutdown closes every handle the reader holds.
func (r *reader) shutdown() {
	r.closeSub()
	if r.bookmark != 0 {
		r.api.close(r.bookmark)
		r.bookmark = 0
	}
	for p, h := range r.publishers {
		if h != 0 {
			r.api.close(h)
		}
		delete(r.publishers, p)
	}
	r.api.release()
}

// run reads the channel until ctx ends; the subscription is open. It
// closes everything before returning.
func (r *reader) run(ctx context.Context, out chan<- Event) {
	defer r.shutdown()
	backoff := backoffMin
	for ctx.Err() == nil {
		if r.sub == 0 {
			if err := r.subscribe(); err != nil {
				r.log.Error("resubscribing failed; retrying", "err", err, "retry_in", backoff)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, backoffMax)
				continue
			}
		}
		// Drain on the signal and on every timeout alike: a poll each
		// second costs little and covers a lost signal.
		if _, err := r.api.wait(waitTimeout); err != nil {
			r.log.Error("waiting for events failed", "err", err)
			r.closeSub()
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, backoffMax)
			continue
		}
		outcome, err := r.drain(ctx, out)
		if ctx.Err() != nil {
			return
		}
		if outcome == nextShrink && r.batch == 1 {
			outcome = nextFail // nothing left to shrink
		}
		switch outcome {
		case nextDrained:
			backoff = backoffMin
		case nextResubscribe:
			r.log.Warn("result set stale: resubscribing after the last bookmark", "err", err)
			r.closeSub()
		case nextShrink:
			r.batch = max(1, r.batch/2)
			r.log.Warn("EvtNext batch too large: resubscribing with a smaller batch", "err", err, "batch", r.batch)
			r.closeSub()
		default:
			r.log.Error("reading events failed: resubscribing after the last bookmark", "err", err, "retry_in", backoff)
			r.closeSub()
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, backoffMax)
		}
	}
}

// drain takes events until EvtNext says there are no more (nextDrained),
// or fails (the outcome says what to do, with EvtNext's error), or ctx ends.
func (r *reader) drain(ctx context.Context, out chan<- Event) (nextOutcome, error) {
	for ctx.Err() == nil {
		n, err := r.api.next(r.sub, r.events[:r.batch])
		if err != nil {
			return classifyNext(err, n), err
		}
		if n <= 0 || n > r.batch {
			return nextDrained, nil
		}
		for i := 0; i < n; i++ {
			if err := r.process(ctx, r.events[i], out); err != nil {
				for _, h := range r.events[i+1 : n] {
					r.api.close(h)
				}
				return nextDrained, err
			}
		}
	}
	return nextDrained, ctx.Err()
}

// process renders one event, moves the bookmark onto it and sends it. It
// closes the event handle. Its only error is ctx ending before the send.
func (r *reader) process(ctx context.Context, h handle, out chan<- Event) error {
	defer r.api.close(h)
	now := r.now()
	var rec record.Record
	x, err := r.api.renderXML(h)
	if err != nil {
		r.log.Warn("rendering an event failed: sending it as an error record", "err", err)
		rec = unrenderedRecord(r.cfg.Host, r.channel, now, err)
	} else {
		var perr error
		rec, perr = record.ParseEventXML([]byte(x))
		if perr == nil && !hasRenderingInfo(x) {
			if msg, ok := r.message(rec.App, h); ok {
				applyMessage(&rec, msg)
			}
		}
		finishRecord(&rec, r.cfg.Host, r.channel, now)
	}
	if err := r.api.updateBookmark(r.bookmark, h); err != nil {
		r.log.Warn("updating the bookmark failed: the event keeps the previous one", "err", err)
	} else {
		r.positioned = true
		if bm, err := r.api.renderBookmark(r.bookmark); err != nil {
			r.log.Warn("rendering the bookmark failed: the event keeps the previous one", "err", err)
		} else {
			r.lastBM = bm
		}
	}
	select {
	case out <- Event{Record: rec, Channel: r.channel, Bookmark: r.lastBM}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// message formats the event's message with the provider's metadata, opened
// once per provider; a provider without metadata is remembered as such.
func (r *reader) message(provider string, ev handle) (string, bool) {
	if provider == "" {
		return "", false
	}
	pub, known := r.publishers[provider]
	if !known {
		h, err := r.api.openPublisher(provider)
		if err != nil {
			r.log.Debug("no publisher metadata: keeping the event data as the message", "provider", provider, "err", err)
			h = 0
		}
		r.publishers[provider] = h
		pub = h
	}
	if pub == 0 {
		return "", false
	}
	msg, err := r.api.formatMessage(pub, ev)
	if err != nil && !formatTolerable(err) {
		r.log.Debug("formatting the message failed: keeping the event data", "provider", provider, "err", err)
		return "", false
	}
	return msg, msg != ""
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// run is Run on top of an api per channel: every channel is opened first, so
// that a bad channel, XPath or missing right fails Run at once; then one
// goroutine per channel reads until ctx ends.
func run(ctx context.Context, cfg Config, bookmarks map[string]string, out chan<- Event, logger *slog.Logger, newAPI func() (api, error)) error {
	cfg, err := cfg.normalized()
	if err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("source", "eventlog")
	readers := make([]*reader, 0, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		a, err := newAPI()
		if err != nil {
			for _, r := range readers {
				r.shutdown()
			}
			return err
		}
		saved := bookmarkFor(bookmarks, ch)
		r := newReader(a, cfg, ch, saved, logger)
		if err := r.open(saved); err != nil {
			r.shutdown()
			for _, r := range readers {
				r.shutdown()
			}
			return err
		}
		readers = append(readers, r)
	}
	var wg sync.WaitGroup
	for _, r := range readers {
		wg.Go(func() { r.run(ctx, out) })
	}
	wg.Wait()
	return nil
}
