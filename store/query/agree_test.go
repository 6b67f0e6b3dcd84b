package query

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"vigie/record"
)

// agreeRecords are varied on purpose: case, diacritics, emoji, punctuation,
// prefixes of one another, GLOB metacharacters, missing and odd fields.
func agreeRecords() []record.Record {
	msgs := []string{
		"connection timeout after 30s",
		"Connection refused by peer",
		"TIMEOUT while waiting; connection refused",
		"refused: timeout",
		"user alice logged in",
		"User BOB logged out",
		"users table vacuumed",
		"Tâche terminée avec succès",
		"tache TERMINEE",
		"Ça coûte 5€, déjà payé",
		"ÉCOLE Œuvre naïve façade",
		"done🤔later",
		"done 🙂 later",
		"foo.bar=baz",
		"foo bar baz",
		"bar foo",
		"ORIGIN of the connection",
		"origin NEAR connection",
		"über Straße Łódź",
		"ﬁle ligature and ǅ digraph",
		"\"quoted\" text with \\ backslash",
		"x",
		"",
		"Ünïcödé ÀÉÎÕÜ àéîõü ÿŸ",
		"timeouts are not timeout",
		"connection_timeout snake",
		"e\u0301te combining",
		"été precomposed",
		"Σίσυφος ΟΔΥΣΣΕΥΣ",
		"Москва ПРИВЕТ",
		"東京 日本語",
	}
	hosts := []string{"erp1", "erp2", "ERP1", "web-01", "a b", "a[b]?cd", "a*b", "a*bc", "posté", "postê", "postf", "", "erp10", "a¿b", "a¿", "aÀ"}
	apps := []string{"postgres", "postfix", "cron", "sshd", "posté", "Postgres", "post", "p[s]s", ""}
	dbs := []string{"", "Specibike", "specibike", "My DB", "Spec", "Specibike2"}
	durs := []string{"", "500", "1500", "499.999", "n/a", "12ms", "-3", ".5", "+.5e1", "..5", " 7", "1e3", "abc", "0", "-0", "1e999", "00501", "+-5"}
	var out []record.Record
	for i := 0; i < 62; i++ {
		r := record.Record{
			Host:     hosts[i%len(hosts)],
			App:      apps[(i*7)%len(apps)],
			ProcID:   fmt.Sprint(1230 + i%6),
			MsgID:    []string{"ID47", "", "-", "ID48"}[i%4],
			Facility: (i * 5) % 24,
			Severity: (i * 3) % 8,
			Source:   []string{"syslog/udp 10.0.0.5", "syslog/tcp 10.0.0.6", "agent erp1"}[i%3],
			Message:  msgs[i%len(msgs)],
		}
		if d := dbs[(i*5)%len(dbs)]; d != "" {
			r.SetField("db", d)
		}
		if d := durs[(i*11)%len(durs)]; d != "" || i%3 == 0 {
			r.SetField("duration_ms", d)
		}
		if i%4 == 1 {
			r.SetField("exampleSDID@32473.iut", fmt.Sprint(i%3))
		}
		if i%9 == 2 {
			r.SetField(`we"ird\key`, "v")
		}
		out = append(out, r)
	}
	return out
}

// agreeQueries adds to compileCases queries aimed at the edge cases above.
var agreeQueries = []string{
	"connection", "CONNECTION refused", `"connection refused"`, `"refused connection"`,
	"timeout*", "timeouts", "user*", "users", `"logged in"`, `"user alice"*`, `"user al"*`,
	"terminee", "TERMINÉE", "tâche", "coute", "deja", "ecole", "oeuvre", "œuvre", "naive", "facade",
	"done", "done🤔later", "later", "uber", "strasse", "straße", "lodz", "łódź",
	"ﬁle", "file", "ǆ", "dž", "unicode", "ÿ", "y", "ete", "été",
	"σίσυφος", "οδυσσευς", "москва", "привет", "東京", "日本語",
	"foo.bar", `"foo bar"`, "bar foo", `"bar foo"`, "foo -baz", "-foo -bar",
	"origin", "near", "quoted", `"text with"`, "backslash",
	"host:ERP1", "host:erp1*", "host:a*", `host:"a b"`, `host:a[b]?cd`, `host:a[b]*`, `host:a\*b`, `host:a\**`,
	"host:a*b*", "host:post*", "host:posté*", "host:*1", `host:""`, "-host:erp*", "host:a¿*", "host:a¿b*",
	"app:post*", "app:Post*", "app:p[s]*", "app:*s", `app:""`, "app:*o*t*",
	"db:specibike", "db:Spec*", "db:*bike*", "-db:*", `db:""`, `db:"My DB" OR db:Spec`,
	"duration_ms>500", "duration_ms>=500", "duration_ms<500", "duration_ms=500", "duration_ms<=0",
	"duration_ms>0.4", "duration_ms<0", "duration_ms=-0", "duration_ms>1e308", "duration_ms=501", "-duration_ms<1000",
	"exampleSDID@32473.iut:1", "exampleSDID@32473.iut>0",
	"severity:err", "severity<=warning", "severity>info", "severity>=7", "severity<1",
	"facility:local0", "facility>=local0", "facility<mail", "facility:kern OR facility:auth",
	"procid:1231", "msgid:-", `msgid:""`, "msgid:ID*", "source:*udp*", "source:syslog/*",
	"connection OR host:erp1", "(timeout OR refused) -host:erp1", "-(timeout OR refused) severity<=warning",
	"(connection host:erp1) OR (user* app:cron)", "NOT (timeout app:post*)", "-timeout -app:cron",
	"connection (-refused OR host:web-01)", "(-refused -timeout) OR db:Specibike",
	"user* -users -logged", "NOT NOT refused", "-(-refused)",
	"message:user* OR message:timeout", "timeout (refused OR (host:erp1 -db:*))",
}

func TestSQLAgreesWithMatch(t *testing.T) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mustExec(t, db, `CREATE TABLE logs(id INTEGER PRIMARY KEY, ts INTEGER, received INTEGER,
		host TEXT, app TEXT, procid TEXT, msgid TEXT, facility INTEGER, severity INTEGER,
		source TEXT, message TEXT, fields TEXT)`)
	mustExec(t, db, `CREATE INDEX logs_host ON logs(host)`)
	mustExec(t, db, `CREATE INDEX logs_app ON logs(app)`)
	mustExec(t, db, `CREATE INDEX logs_severity ON logs(severity)`)
	mustExec(t, db, `CREATE VIRTUAL TABLE fts USING fts5(message, content='logs', content_rowid='id', tokenize='unicode61')`)

	recs := agreeRecords()
	for i := range recs {
		r := &recs[i]
		r.ID = int64(i + 1)
		var fields any // NULL when empty, as the store writes it
		if len(r.Fields) > 0 {
			b, err := json.Marshal(r.Fields)
			if err != nil {
				t.Fatal(err)
			}
			fields = string(b)
		}
		mustExec(t, db, `INSERT INTO logs(id, ts, received, host, app, procid, msgid, facility, severity, source, message, fields)
			VALUES(?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Host, r.App, r.ProcID, r.MsgID, r.Facility, r.Severity, r.Source, r.Message, fields)
		mustExec(t, db, `INSERT INTO fts(rowid, message) VALUES(?, ?)`, r.ID, r.Message)
	}

	queries := append(slices.Clone(compileCases), agreeQueries...)
	var trivial []string
	for _, s := range queries {
		q, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		got := sqlIDs(t, db, q.Compile())
		var want []int64
		for i := range recs {
			if q.Match(&recs[i]) {
				want = append(want, recs[i].ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s\n\tcompiled %+v\n\tSQL   %v\n\tMatch %v", s, q.Compile(), got, want)
		}
		if s != "" && (len(want) == 0 || len(want) == len(recs)) {
			trivial = append(trivial, s)
		}
	}
	// A query that selects nothing or everything tests little.
	if len(trivial) > len(queries)/8 {
		t.Errorf("%d of %d queries select nothing or everything: %q", len(trivial), len(queries), trivial)
	}
}

// sqlIDs runs a compiled query the way the store does.
func sqlIDs(t *testing.T, db *sql.DB, c Compiled) []int64 {
	t.Helper()
	where := c.Where
	if where == "" {
		where = "1"
	}
	var rows *sql.Rows
	var err error
	if c.Match != "" {
		rows, err = db.Query(`SELECT l.id FROM fts JOIN logs l ON l.id = fts.rowid
			WHERE fts MATCH ? AND (`+where+`) ORDER BY l.id`, append([]any{c.Match}, c.Args...)...)
	} else {
		rows, err = db.Query(`SELECT l.id FROM logs l WHERE (`+where+`) ORDER BY l.id`, c.Args...)
	}
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSQLAgreesOnOddKeys builds predicates on keys the query syntax cannot
// spell, to check the JSON path escaping.
func TestSQLAgreesOnOddKeys(t *testing.T) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mustExec(t, db, `CREATE TABLE logs(id INTEGER PRIMARY KEY, fields TEXT)`)
	keys := []string{`a"b`, `a\b`, `a.b`, `a[0]`, `$`, `a b`, `é`, "a\tb", `\"`, `a\u0022b`}
	for i, k := range keys {
		b, _ := json.Marshal(map[string]string{k: "v"})
		mustExec(t, db, `INSERT INTO logs(id, fields) VALUES(?, ?)`, i+1, string(b))
	}
	for i, k := range keys {
		q := &Query{root: &node{kind: kEq, name: k, text: "v"}}
		got := sqlIDs(t, db, q.Compile())
		if !slices.Equal(got, []int64{int64(i + 1)}) {
			t.Errorf("key %q: path %s selects %v", k, JSONPath(k), got)
		}
		r := record.Record{Fields: map[string]string{k: "v"}}
		if !q.Match(&r) {
			t.Errorf("key %q: Match false", k)
		}
	}
}
