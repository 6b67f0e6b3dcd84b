// Package forwarder is vigie-agent: it reads local logs and ships them to the
// collector with nothing lost and nothing doubled (agent.go says how).
//
// Subpackages, one job each:
//
//   - tail: the file source: glob paths, rotation (rename and copytruncate),
//     file identity, restart from acknowledged offsets.
//   - positions: the saved read positions (one JSON file, written atomically).
//   - eventlog: the Windows event log source (wevtapi.dll).
//   - multiline: joining a file's lines into records.
//   - spool: batches on disk, in order, before they are sent.
//   - output: where batches go (the vigie collector, a syslog server) and the
//     sender that retries until they are acknowledged.
//
// Everything here is pure Go (CGO_ENABLED=0) and builds for linux and windows.
package forwarder
