package rules

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"vigie/collector"
	"vigie/store"
)

// TestPostgresErrorsOverSyslogReachTheWebhook drives a threshold rule end
// to end: PostgreSQL lines sent over syslog TCP, collected, stored,
// fanned out by the hub, counted, and posted to the webhook.
func TestPostgresErrorsOverSyslogReachTheWebhook(t *testing.T) {
	r := newRig(t, `rules:
  - {name: postgres-errors, query: "app:postgres severity<=err", threshold: {count: 3, window: 5m}, group_by: [host], notify: [ops]}
`)
	col, err := collector.New(collector.Config{TCPAddr: "127.0.0.1:0", MaxMessageSize: 64 << 10, Location: time.UTC}, r.st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Shutdown(context.Background()) })
	_, addr, _ := col.Addrs()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	for _, l := range []string{
		`<131>1 %s erp1 postgres 4711 - - FATAL:  password authentication failed for user "openpg"`,
		`<134>1 %s erp1 postgres 4711 - - LOG:  checkpoint complete`,
		`<131>1 %s erp1 postgres 4712 - - ERROR:  relation "sale_order_line" does not exist`,
		`<130>1 %s erp1 postgres 4713 - - PANIC:  could not write to file "pg_wal/xlogtemp.4713": No space left on device`,
		`<131>1 %s erp2 postgres 5100 - - ERROR:  canceling statement due to user request`,
	} {
		fmt.Fprintf(conn, l+"\n", stamp)
	}
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := r.st.Search(context.Background(), store.Request{Query: "app:postgres"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records stored after 10s", len(res.Records))
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.eval()
	m := r.recv.wait(1)[0]
	if m.Key != `postgres-errors{host="erp1"}` || m.Summary != "3 matches of app:postgres severity<=err in 5m (host=erp1)" || len(m.Samples) != 3 {
		t.Errorf("%+v", m)
	}
	if m.Samples[0].Severity != 2 || m.Samples[0].ProcID != "4713" {
		t.Errorf("newest sample %+v", m.Samples[0])
	}
	r.recv.quiet(1) // erp2 has one error: below the count
}
