// Package eventlog is the Windows event log source of vigie-agent (it
// replaces Snare): it follows event log channels and hands each event over
// as a record.Record with a bookmark to save once the event is spooled.
//
// # Design
//
// Run opens one reader per configured channel, each with its own
// subscription, bookmark and signal event, and runs them in a goroutine
// each. Every channel is subscribed before Run starts reading, so a channel
// that does not exist, an XPath the service rejects or a missing right (the
// Security channel needs LocalSystem or the Event Log Readers group) makes
// Run fail at once with an error naming the channel. Later failures are
// logged and retried with backoff; Run returns nil when ctx ends.
//
//   - Query: the configured XPath ("*" by default) in a structured
//     <QueryList> per channel, channel name and XPath XML-escaped;
//     EvtSubscribe gets a nil ChannelPath.
//   - Pull model: EvtSubscribe with a manual-reset signal event, no
//     callback. The reader waits on the event with a 1 s timeout (so ctx
//     cancellation is seen within a second), resets it, then calls EvtNext
//     (BatchSize handles, default 64) until ERROR_NO_MORE_ITEMS. It drains
//     on a timeout too, which covers a lost signal for one EvtNext a second.
//   - Each event is rendered to XML (EvtRender EvtRenderEventXml, UTF-16 →
//     UTF-8) and mapped by record.ParseEventXML. Unless the XML already
//     holds a RenderingInfo (forwarded events), the message comes from
//     EvtFormatMessage(EvtFormatMessageEvent) with the provider's metadata
//     (EvtOpenPublisherMetadata, opened once per provider and channel; a
//     provider without metadata is remembered, so it costs one try). With
//     no message the record keeps the EventData values, which stay in the
//     data.* fields in any case. Host falls back to Config.Host when the
//     event has no Computer. An event EvtRender cannot render is still sent,
//     as a record with parse_error.
//   - Bookmarks: one bookmark handle per channel, made from the saved XML
//     (EvtCreateBookmark) and moved onto every event (EvtUpdateBookmark);
//     Event.Bookmark is its XML (EvtRender EvtRenderBookmark). A saved
//     bookmark is used with EvtSubscribeStartAfterBookmark|EvtSubscribeStrict;
//     when that fails because the bookmarked event is gone (log cleared or
//     overwritten), the reader warns and starts at the oldest record. A
//     saved bookmark of another channel or that does not parse is ignored
//     with a warning. No bookmark: the oldest record.
//   - Recovery: ERROR_EVT_QUERY_RESULT_STALE from EvtNext closes the
//     subscription and resubscribes after the last bookmark (or at the
//     oldest record when nothing was read yet); RPC_S_INVALID_BOUND halves
//     the batch and resubscribes; other failures back off (1 s to 30 s).
//   - Buffers (render, format) are per reader, reused, and grown on
//     ERROR_INSUFFICIENT_BUFFER, or when EvtFormatMessage succeeds but
//     reports it needed more (it truncates); sizes above 64 MiB are refused.
//     Every event handle is closed after use, including the rest of a batch
//     when ctx ends mid-batch; subscriptions, bookmarks, publisher handles
//     and the signal event are closed when the reader stops.
//
// The bindings to wevtapi.dll (wevtapi_windows.go) are our own, over
// golang.org/x/sys/windows (NewLazySystemDLL, syscall.SyscallN), pure Go.
// The reader logic sits behind a small interface (api) so that it is
// portable: reader.go, errors.go and eventlog.go build everywhere.
//
// # What was verified, and what was not
//
// Nothing in this package has been run on Windows. On Linux, the tests run
// (with -race) the whole reader logic against a fake event log service
// (fake_test.go): reading from the oldest record, resuming after a saved
// bookmark, the fallback when the bookmarked event is gone, ignored
// bookmarks, stale result sets, batch shrinking, message formatting and the
// publisher cache, unrenderable events, startup errors, and that every
// handle is closed. The pure parts (query building and escaping, bookmark
// parsing and lookup, message insertion, buffer growth, error
// classification) have unit tests, and Run returns ErrUnsupported off
// Windows.
//
// The Windows side was only compiled and vetted (GOOS=windows, amd64, 386,
// arm64; the Windows tests in eventlog_windows_test.go compile with go test
// -c but were never executed). So the following are unverified against the
// real API: the syscall signatures and argument order, the error codes
// actually returned (e.g. which code a strict subscription with a missing
// bookmark gives: ERROR_NOT_FOUND is documented), the signal event
// behaviour, EvtFormatMessage's buffer semantics with unresolved inserts,
// and the rights needed for Security.
package eventlog
