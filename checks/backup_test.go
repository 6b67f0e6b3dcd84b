package checks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// realDump is a `pg_dump -Fc` of a small Specibike database (PostgreSQL 15).
func realDump(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/checks/backup/Specibike.dump")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeAged(t *testing.T, path string, data []byte, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

func TestReadPGDumpHeader(t *testing.T) {
	dump := realDump(t)
	h, err := readPGDumpHeader(bytes.NewReader(dump), int64(len(dump)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Database != "Specibike" || h.Format != pgFormatCust || h.Version != "1.14.0" || h.TOCCount < 5 ||
		!strings.HasPrefix(h.Server, "15.") || h.Created.Year() != 2026 {
		t.Errorf("%+v", h)
	}
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"header only", dump[:h.HeaderLen], fmt.Sprintf("the file stops after its %d-byte header: the dump was cut", h.HeaderLen)},
		{"cut in the table of contents", dump[:h.HeaderLen+30], "table of contents lists"},
		{"cut in the header", dump[:40], "the file ends inside the pg_dump header"},
		{"a few bytes", dump[:3], "only 3 bytes"},
		{"plain SQL", []byte("--\n-- PostgreSQL database dump\n--\n"), "plain SQL dump"},
		{"not a dump", []byte("PK\x03\x04 zip file"), "no PGDMP signature"},
		{"bad int size", append([]byte("PGDMP\x01\x0e\x00\x20"), dump[9:]...), "integer size 32"},
		{"tar format", append(append([]byte{}, dump[:10]...), append([]byte{3}, dump[11:]...)...), "archive format 3"},
	}
	for _, tc := range tests {
		_, err := readPGDumpHeader(bytes.NewReader(tc.data), int64(len(tc.data)))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

func FuzzPGDumpHeader(f *testing.F) {
	dump, err := os.ReadFile("../testdata/checks/backup/Specibike.dump")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(dump[:300])
	f.Add([]byte("PGDMP\x01\x0f\x00\x08\x08\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := readPGDumpHeader(bytes.NewReader(b), int64(len(b)))
		if err == nil && (h.HeaderLen > int64(len(b)) || h.TOCCount <= 0) {
			t.Fatalf("accepted %+v of %d bytes", h, len(b))
		}
	})
}

func TestProbeBackup(t *testing.T) {
	dump := realDump(t)
	h, err := readPGDumpHeader(bytes.NewReader(dump), int64(len(dump)))
	if err != nil {
		t.Fatal(err)
	}
	headerLen := h.HeaderLen
	successLog := "Nous sommes le : Thu Jul 5 19:01:11 2012\r\nLa sauvegarde commence\r\nLe dump de la base : Specibike est fini\r\nPas d'erreur sur les dump\r\nrsync -a --chmod=ugo=rwX sauvegardesLocales 172.31.0.2::Backup\r\nLe transfert est terminé\r\nLe fichier erreur.txt est detruit\r\n\r\n"
	failedLog := "Nous sommes le : Thu Jul 5 17:17:41 2012\r\nLa sauvegarde commence\r\nPas d'erreur sur les dump\r\nrsync -a --chmod=ugo=rwX sauvegardesLocales 172.31.0.3::Backup\r\nErreur dans le transfert\r\nConsultez le fichier erreur.txt\r\n"
	latin1Log := "La sauvegarde commence\nLe transfert est termin\xe9\n" // Windows "ANSI"
	type file struct {
		name string
		data []byte
		age  time.Duration
	}
	day := 24 * time.Hour
	tests := []struct {
		name   string
		files  []file
		keys   string
		err    string
		values map[string]float64
	}{
		{name: "fresh dump", files: []file{{"Specibike-1.dump", dump, 2 * day}, {"Specibike-2.dump", dump, time.Hour}},
			keys:   "max_age: 26h\nmin_size: 1KiB\nmin_count: 2\nformat: pg_dump",
			values: map[string]float64{"count": 2, "size_bytes": float64(len(dump))}},
		{name: "stale dump", files: []file{{"Specibike-1.dump", dump, 30 * time.Hour}},
			keys: "max_age: 26h", err: `^newest backup Specibike-1\.dump is 30h old \(written \d{4}-\d\d-\d\d \d\d:\d\d\), more than max_age 26h$`},
		{name: "empty dump", files: []file{{"Specibike-1.dump", nil, time.Hour}},
			keys: "max_age: 26h\nmin_size: 10KiB", err: `^newest backup Specibike-1\.dump is 0 B, less than min_size 10\.0 KiB$`},
		{name: "truncated dump", files: []file{{"Specibike-1.dump", dump[:headerLen], time.Hour}},
			keys: "max_age: 26h\nformat: pg_dump", err: `^newest backup Specibike-1\.dump: the file stops after its \d+-byte header: the dump was cut$`},
		{name: "older good dump does not hide a newer bad one", files: []file{{"Specibike-1.dump", dump, 5 * time.Hour}, {"Specibike-2.dump", []byte("--\n-- PostgreSQL"), time.Hour}},
			keys: "format: pg_dump\nmin_count: 1", err: `^newest backup Specibike-2\.dump: it is a plain SQL dump`},
		{name: "too few", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"other.txt", dump, time.Hour}},
			keys: "min_count: 2", err: `^1 file\(s\) match .*/Specibike\*\.dump, expected at least min_count 2$`},
		{name: "none", keys: "max_age: 26h", err: `^0 file\(s\) match|^no file matches`},
		{name: "directories ignored", files: []file{{"Specibike-dir.dump/", nil, 0}},
			keys: "max_age: 26h", err: `^no file matches .*/Specibike\*\.dump$`, values: map[string]float64{"count": 0}},
		{name: "log success", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"log.txt", []byte(successLog), time.Hour}},
			keys: "max_age: 26h\nlog: {path: DIR/log.txt, success: 'transfert est terminé', failure: '(?i)erreur dans'}"},
		{name: "log latin-1", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"log.txt", []byte(latin1Log), time.Hour}},
			keys: "log: {path: DIR/log.txt, success: 'transfert est terminé'}"},
		{name: "log failure", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"log.txt", []byte(failedLog), time.Hour}},
			keys: "max_age: 26h\nlog: {path: DIR/log.txt, success: 'transfert est terminé', failure: '(?i)erreur dans'}",
			err:  `^log .*/log\.txt: failure pattern "\(\?i\)erreur dans" matches "Erreur dans le transfert"$`},
		{name: "log without success", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"log.txt", []byte(failedLog), time.Hour}},
			keys: "log: {path: DIR/log.txt, success: 'transfert est terminé'}",
			err:  `^log .*/log\.txt: success pattern "transfert est terminé" matches none of the last 6 lines \(last line "Consultez le fichier erreur\.txt"\)$`},
		{name: "success only in older lines", files: []file{{"Specibike-1.dump", dump, time.Hour},
			{"log.txt", []byte(successLog + strings.Repeat("rsync: retry\n", 30)), time.Hour}},
			keys: "log: {path: DIR/log.txt, success: 'transfert est terminé', lines: 20}", err: `matches none of the last 20 lines`},
		{name: "stale log", files: []file{{"Specibike-1.dump", dump, time.Hour}, {"log.txt", []byte(successLog), 2 * day}},
			keys: "max_age: 26h\nlog: {path: DIR/log.txt, success: 'terminé'}",
			err:  `^log .*/log\.txt: last written 2d ago \(.*\), more than max_age 26h: did the backup script run\?$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				if strings.HasSuffix(f.name, "/") {
					os.Mkdir(filepath.Join(dir, f.name), 0o755)
					continue
				}
				writeAged(t, filepath.Join(dir, f.name), f.data, f.age)
			}
			keys := strings.ReplaceAll(tc.keys, "DIR", dir)
			c := loadCheck(t, fmt.Sprintf("name: backup\ntype: backup\npath: %q\n%s", filepath.Join(dir, "Specibike*.dump"), keys))
			res := run(t, c)
			if (tc.err == "") != res.Success {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			for k, v := range tc.values {
				if res.Values[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, res.Values[k], v, res.Values)
				}
			}
			if age, ok := res.Values["age_seconds"]; ok && (age < 0 || age > 3*86400) {
				t.Errorf("age_seconds %v", age)
			}
		})
	}
}

func TestLastLinesReadsOnlyTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	f, _ := os.Open(path)
	defer f.Close()
	fi, _ := f.Stat()
	lines, err := lastLines(f, fi.Size(), 3)
	if err != nil || strings.Join(lines, "|") != "line 99997|line 99998|line 99999" {
		t.Errorf("%q %v", lines, err)
	}
}
