package eventlog

import (
	"errors"
	"fmt"
)

// Win32 error codes the reader acts on (winerror.h; the same values as the
// golang.org/x/sys/windows constants). They are plain numbers here so that
// the decisions built on them are portable and tested on Linux.
const (
	codeAccessDenied           = 5     // ERROR_ACCESS_DENIED
	codeInsufficientBuffer     = 122   // ERROR_INSUFFICIENT_BUFFER
	codeNoMoreItems            = 259   // ERROR_NO_MORE_ITEMS
	codeNotFound               = 1168  // ERROR_NOT_FOUND (strict bookmark gone)
	codeTimeout                = 1460  // ERROR_TIMEOUT
	codeRPCInvalidBound        = 1734  // RPC_S_INVALID_BOUND: EvtNext batch too large
	codeInvalidOperation       = 4317  // ERROR_INVALID_OPERATION
	codeEvtInvalidChannelPath  = 15000 // ERROR_EVT_INVALID_CHANNEL_PATH
	codeEvtInvalidQuery        = 15001 // ERROR_EVT_INVALID_QUERY
	codeEvtChannelNotFound     = 15007 // ERROR_EVT_CHANNEL_NOT_FOUND
	codeEvtQueryResultStale    = 15011 // ERROR_EVT_QUERY_RESULT_STALE
	codeEvtFilterFirst         = 15014 // ERROR_EVT_FILTER_ALREADYSCOPED
	codeEvtFilterLast          = 15021 // ERROR_EVT_FILTER_UNEXPECTEDTOKEN
	codeEvtFilterTooComplex    = 15026 // ERROR_EVT_FILTER_TOO_COMPLEX
	codeEvtUnresolvedValue     = 15029 // ERROR_EVT_UNRESOLVED_VALUE_INSERT
	codeEvtUnresolvedParameter = 15030 // ERROR_EVT_UNRESOLVED_PARAMETER_INSERT
	codeEvtMaxInserts          = 15031 // ERROR_EVT_MAX_INSERTS_REACHED
	codeEvtFilterOutOfRange    = 15038 // ERROR_EVT_FILTER_OUT_OF_RANGE
)

// apiError is a failed wevtapi call: the function and the Win32 code. It
// unwraps to the system error (a windows.Errno on Windows), so errors.Is
// with the x/sys/windows constants works on what Run logs and returns.
type apiError struct {
	Op   string
	Code uint32
	Err  error
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return e.Op + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: error %d", e.Op, e.Code)
}

func (e *apiError) Unwrap() error { return e.Err }

// codeOf is the Win32 code in err, 0 when there is none.
func codeOf(err error) uint32 {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

func isShortBuffer(err error) bool { return codeOf(err) == codeInsufficientBuffer }

// formatTolerable says whether EvtFormatMessage's buffer holds a usable
// message despite err: inserts it could not resolve are left as %n.
func formatTolerable(err error) bool {
	switch codeOf(err) {
	case codeEvtUnresolvedValue, codeEvtUnresolvedParameter, codeEvtMaxInserts:
		return true
	}
	return false
}

// isQueryOrAccessError says whether a failed EvtSubscribe is about the query
// itself (channel, XPath, rights) rather than the start position: starting
// from the oldest record instead of a bookmark would fail the same way.
func isQueryOrAccessError(code uint32) bool {
	switch {
	case code == codeAccessDenied, code == codeEvtInvalidChannelPath,
		code == codeEvtInvalidQuery, code == codeEvtChannelNotFound,
		code == codeEvtFilterTooComplex, code == codeEvtFilterOutOfRange,
		code >= codeEvtFilterFirst && code <= codeEvtFilterLast:
		return true
	}
	return false
}

// subscribeError words a failed subscription for the operator: it names the
// channel, and for access denied says how to run the agent.
func subscribeError(channel, xpath string, err error) error {
	code := codeOf(err)
	switch {
	case code == codeAccessDenied:
		return fmt.Errorf("eventlog: channel %q: access denied: run vigie-agent as LocalSystem or as a member of the Event Log Readers group (%w)", channel, err)
	case code == codeEvtChannelNotFound || code == codeEvtInvalidChannelPath:
		return fmt.Errorf("eventlog: channel %q does not exist on this system (%w)", channel, err)
	case isQueryOrAccessError(code):
		return fmt.Errorf("eventlog: channel %q: invalid xpath %q (%w)", channel, xpath, err)
	}
	return fmt.Errorf("eventlog: channel %q: subscribing: %w", channel, err)
}

// nextOutcome is what the reader does after a failed EvtNext.
type nextOutcome int

const (
	nextDrained     nextOutcome = iota // nothing more for now: wait for the signal
	nextResubscribe                    // the result set is stale: resubscribe after the last bookmark
	nextShrink                         // the batch is too large: halve it and resubscribe
	nextFail                           // anything else: log, back off, resubscribe
)

// classifyNext maps a failed EvtNext (n handles returned) to the outcome.
func classifyNext(err error, n int) nextOutcome {
	switch codeOf(err) {
	case codeNoMoreItems, codeTimeout:
		return nextDrained
	case codeInvalidOperation:
		if n == 0 { // seen when polling a subscription with nothing new
			return nextDrained
		}
		return nextResubscribe
	case codeEvtQueryResultStale:
		return nextResubscribe
	case codeRPCInvalidBound:
		return nextShrink
	}
	return nextFail
}
