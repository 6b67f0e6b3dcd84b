package rules

import (
	"fmt"
	"testing"
	"time"

	"vigie/cmd/config"
	"vigie/record"
	"vigie/store/query"
)

// benchRecords is a batch shaped like the seeds' traffic: PostgreSQL,
// Odoo, sshd, nginx and the backup script, across a few hosts.
func benchRecords(n int) []record.Record {
	type line struct {
		app     string
		sev     int
		msg     string
		dur     string
		db      string
		proc    string
		msgHost string
	}
	lines := []line{
		{"postgres", 6, "duration: 12.5 ms  statement: SELECT id FROM res_users WHERE login = $1", "12.5", "Specibike", "4711", ""},
		{"postgres", 3, `ERROR:  relation "sale_order_line" does not exist at character 15`, "", "Specibike", "4712", ""},
		{"postgres", 2, `FATAL:  password authentication failed for user "openpg"`, "", "Specibike2404", "4713", ""},
		{"odoo", 6, "werkzeug: 10.0.0.7 - - \"POST /web/dataset/call_kw HTTP/1.1\" 200 - 12 0.034 0.051", "51", "Specibike", "1234", ""},
		{"odoo", 4, "odoo.addons.base.models.ir_cron: Job `Mail: Email Queue Manager` took too long", "", "Specibike", "1234", ""},
		{"odoo", 3, "odoo.sql_db: bad query: SELECT * FROM stock_move ERROR: could not serialize access", "", "Specibike", "1234", ""},
		{"sshd", 6, "Accepted publickey for root from 10.0.0.5 port 51234 ssh2", "", "", "991", ""},
		{"sshd", 5, "Invalid user admin from 185.220.101.4 port 40122", "", "", "992", ""},
		{"nginx", 4, "upstream timed out (110: Connection timed out) while reading response header from upstream", "", "", "80", ""},
		{"sauvegarde", 6, "Le transfert est terminé", "", "", "", ""},
		{"sauvegarde", 3, "Erreur dans le transfert", "", "", "", ""},
		{"kernel", 6, "eth0: link up, 1000Mbps, full-duplex", "", "", "", ""},
	}
	hosts := []string{"erp1", "erp2", "www", "backup", "dedibox", "vm-www"}
	now := time.Now()
	out := make([]record.Record, n)
	for i := range out {
		l := lines[(i*7)%len(lines)]
		r := record.Record{ID: int64(i + 1), Time: now, Received: now, Host: hosts[(i*5)%len(hosts)], App: l.app, ProcID: l.proc,
			Facility: 16, Severity: l.sev, Source: "syslog/udp 10.0.0.5", Message: l.msg}
		if l.dur != "" {
			r.SetField("duration_ms", l.dur)
		}
		if l.db != "" {
			r.SetField("db", l.db)
		}
		out[i] = r
	}
	return out
}

// benchQueries are 100 distinct rule queries in the shapes people write:
// field equality, severity ranges, globs, words, phrases, numbers, NOT, OR.
func benchQueries() []string {
	shapes := []string{
		"app:%s severity<=err",
		"host:%s app:postgres severity<=warning",
		"app:%s -host:www",
		`"password authentication failed" host:%s`,
		"app:odoo %s",
		"duration_ms>%s app:postgres",
		"host:%s* severity<=crit",
		"(app:nginx OR app:%s) timed",
		"db:%s severity<=err",
		"app:sauvegarde Erreur host:%s",
	}
	values := [][]string{
		{"postgres", "odoo", "nginx", "sshd", "kernel", "sauvegarde", "cron", "postfix", "dovecot", "haproxy"},
		{"erp1", "erp2", "www", "backup", "dedibox", "vm-www", "db1", "db2", "mail", "proxy"},
		{"postgres", "odoo", "nginx", "sshd", "kernel", "sauvegarde", "cron", "postfix", "dovecot", "haproxy"},
		{"erp1", "erp2", "www", "backup", "dedibox", "vm-www", "db1", "db2", "mail", "proxy"},
		{"traceback", "bad", "took", "cron", "werkzeug", "serialize", "memory", "killed", "timeout", "denied"},
		{"100", "200", "500", "1000", "2000", "5000", "10", "50", "300", "3000"},
		{"erp", "www", "back", "dedi", "vm", "db", "mail", "prox", "fw", "sw"},
		{"haproxy", "apache", "squid", "varnish", "traefik", "caddy", "envoy", "lighttpd", "node", "php-fpm"},
		{"Specibike", "Specibike2404", "test", "prod", "demo", "formation", "archive", "old", "copy", "tmp"},
		{"backup", "erp1", "erp2", "nas", "dedibox", "vm-www", "db1", "db2", "mail", "proxy"},
	}
	var qs []string
	for s, shape := range shapes {
		for _, v := range values[s] {
			qs = append(qs, fmt.Sprintf(shape, v))
		}
	}
	return qs
}

// BenchmarkObserve100Rules is the cost rules add to ingestion: one
// committed batch of 5,000 records observed with 100 threshold rules
// loaded. Compare ns/record with the store's cost per record stored.
// "mixed" has 40 queries with words or phrases (the message is split into
// words once per query and record, see docs/rules.md); "fields" has none.
func BenchmarkObserve100Rules(b *testing.B) {
	all := benchQueries()
	var fields []string
	for _, q := range all {
		pq, _ := query.Parse(q)
		if pq.Compile().Match == "" { // no full-text term
			fields = append(fields, q)
		}
	}
	for len(fields) < 100 {
		fields = append(fields, fmt.Sprintf("app:app%d severity<=err", len(fields)))
	}
	for _, c := range []struct {
		name string
		qs   []string
	}{{"mixed", all}, {"fields", fields}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := make([]config.Rule, len(c.qs))
			for i, q := range c.qs {
				cfg[i] = config.Rule{Name: fmt.Sprintf("r%d", i), Query: q, Severity: "warning",
					Threshold: &config.Threshold{Count: 1_000_000, Window: config.Duration(5 * time.Minute)}}
				if i%4 == 0 {
					cfg[i].GroupBy = []string{"host"}
				}
			}
			e, err := New(b.Context(), Options{Rules: cfg, DataDir: b.TempDir(), Search: nopSearch{}})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			recs := benchRecords(5000)
			for b.Loop() {
				e.Observe(recs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
