package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgBinDir finds a PostgreSQL server installation (Debian layout).
func pgBinDir(t *testing.T) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is required in CI (make test-deps installs it)")
		}
		t.Skip("no PostgreSQL server installed")
	}
	sort.Strings(dirs)
	return filepath.Dir(dirs[len(dirs)-1])
}

// asPostgresUser runs a server command; root may not run PostgreSQL, so as
// root the command runs as nobody.
func asPostgresUser(t *testing.T, name string, args ...string) *exec.Cmd {
	if os.Getuid() != 0 {
		return exec.Command(name, args...)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root without setpriv: cannot start PostgreSQL as another user")
	}
	return exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", name}, args...)...)
}

type postgres struct {
	bin, data, logDir string
	port              int
}

// startPostgres runs a private cluster that logs every statement with its
// duration to stderr (logging_collector), csvlog and jsonlog files.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin := pgBinDir(t)
	base, err := os.MkdirTemp("", "vigie-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o777)
	pg := &postgres{bin: bin, data: filepath.Join(base, "data"), logDir: filepath.Join(base, "log")}
	for _, d := range []string{pg.logDir} {
		os.MkdirAll(d, 0o777)
		os.Chmod(d, 0o777)
	}
	if out, err := asPostgresUser(t, filepath.Join(bin, "initdb"), "-D", pg.data, "-U", "postgres", "--auth=trust", "--locale=C", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	pg.port, _ = strconv.Atoi(port)
	conf := fmt.Sprintf(`
port = %d
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = '%s'
log_filename = 'postgresql'
log_file_mode = 0644
log_min_duration_statement = 0
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
lc_messages = 'C'
`, pg.port, base, pg.logDir)
	f, err := os.OpenFile(filepath.Join(pg.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	if out, err := asPostgresUser(t, filepath.Join(bin, "pg_ctl"), "-D", pg.data, "-w", "-l", filepath.Join(base, "startup.log"), "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		asPostgresUser(t, filepath.Join(bin, "pg_ctl"), "-D", pg.data, "-m", "fast", "stop").Run()
	})
	return pg
}

func (pg *postgres) sql(t *testing.T, db, q string) {
	t.Helper()
	psql := filepath.Join(pg.bin, "psql")
	out, err := exec.Command(psql, "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=0", "-c", q).CombinedOutput()
	if err != nil && !strings.Contains(q, "no_such_table") {
		t.Fatalf("psql %q: %v\n%s", q, err, out)
	}
}

func TestPostgresLogsShippedWithDurations(t *testing.T) {
	pg := startPostgres(t)
	pg.sql(t, "postgres", "CREATE DATABASE specibike")
	pg.sql(t, "specibike", "CREATE TABLE sale_order(id serial primary key, name text)")
	pg.sql(t, "specibike", "INSERT INTO sale_order(name) SELECT 'SO' || g FROM generate_series(1, 1000) g")
	pg.sql(t, "specibike", "SELECT pg_sleep(1.2), count(*) FROM sale_order")
	pg.sql(t, "specibike", "SELECT * FROM no_such_table")

	dir := t.TempDir()
	httpAddr := freeAddr(t)
	col := startCollector(t, filepath.Join(dir, "data"), httpAddr)
	startAgent(t, filepath.Join(dir, "state"), httpAddr, fmt.Sprintf(`  - {type: file, paths: [%q], format: postgres, line_prefix: "%%m [%%p] %%q%%u@%%d "}
  - {type: file, paths: [%q], format: postgres-csv}
  - {type: file, paths: [%q], format: postgres-json}
`, filepath.Join(pg.logDir, "postgresql"), filepath.Join(pg.logDir, "postgresql.csv"), filepath.Join(pg.logDir, "postgresql.json")))

	// The slow statement, once from each of the three logs.
	var slow []map[string]any
	waitFor(t, 30*time.Second, "the slow statement from stderr, csvlog and jsonlog", func() bool {
		slow = col.search(t, `app:postgres duration_ms>1000 pg_sleep`)
		return len(slow) >= 3
	})
	files := map[string]bool{}
	for _, r := range slow {
		f := r["fields"].(map[string]any)
		files[filepath.Base(f["file"].(string))] = true
		d, _ := strconv.ParseFloat(f["duration_ms"].(string), 64)
		if d < 1200 || f["db"] != "specibike" || f["user"] != "postgres" || r["host"] == "" {
			t.Errorf("slow statement record %v", r)
		}
	}
	if len(slow) != 3 || len(files) != 3 {
		t.Errorf("%d slow statements from %v, want one per log file", len(slow), files)
	}
	// The error, with its statement attached, at severity err.
	var errs []map[string]any
	waitFor(t, 10*time.Second, "the ERROR of the missing table", func() bool {
		errs = col.search(t, `app:postgres severity<=err no_such_table`)
		return len(errs) >= 3
	})
	for _, r := range errs {
		f := r["fields"].(map[string]any)
		if f["sql_state"] != nil && f["sql_state"] != "42P01" {
			t.Errorf("sql_state %v", f["sql_state"])
		}
		if !strings.Contains(r["message"].(string), "no_such_table") {
			t.Errorf("error record %v", r)
		}
	}
}
