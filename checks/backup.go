package checks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/cmd/config"
)

// maxLogTail is how much of the end of a backup log is read for its last
// lines.
const maxLogTail = 256 << 10

// probeBackup judges the newest file matching a glob (age, size, pg_dump
// header), how many files match, and the backup script's own log.
func probeBackup(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{FailedStep: -1, Values: map[string]float64{}}
	step := StepResult{Name: c.Name, URL: "file://" + c.Path}
	start := time.Now()
	fail := func(format string, a ...any) *Result {
		msg := fmt.Sprintf(format, a...)
		step.Phases.Total = time.Since(start)
		step.Error = msg
		res.Steps = []StepResult{step}
		res.Error = msg
		return res
	}
	paths, err := filepath.Glob(c.Path)
	if err != nil {
		return fail("path %q: %v", c.Path, err)
	}
	var newest fs.FileInfo
	var newestPath string
	count := 0
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return fail("%s", describeErr(err, c.Path, checkTimeout(c), "listing the backups"))
		}
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue // vanished since the glob, or a directory
		}
		count++
		if newest == nil || fi.ModTime().After(newest.ModTime()) {
			newest, newestPath = fi, p
		}
	}
	res.Values["count"] = float64(count)
	if count < c.MinCount {
		return fail("%d file(s) match %s, expected at least min_count %d", count, c.Path, c.MinCount)
	}
	now := time.Now()
	if newest != nil {
		age := now.Sub(newest.ModTime())
		res.Values["age_seconds"] = age.Seconds()
		res.Values["size_bytes"] = float64(newest.Size())
		step.Bytes = newest.Size()
		name := filepath.Base(newestPath)
		if c.MaxAge > 0 && age > time.Duration(c.MaxAge) {
			return fail("newest backup %s is %s old (written %s), more than max_age %s",
				name, roundAge(age), newest.ModTime().Format("2006-01-02 15:04"), c.MaxAge)
		}
		if c.MinSize > 0 && newest.Size() < int64(c.MinSize) {
			return fail("newest backup %s is %s, less than min_size %s", name, humanBytes(newest.Size()), humanBytes(int64(c.MinSize)))
		}
		if c.Format == "pg_dump" {
			if err := checkPGDump(newestPath, newest.Size()); err != nil {
				return fail("newest backup %s: %v", name, err)
			}
		}
	} else if c.MaxAge > 0 || c.MinSize > 0 || c.Format != "" {
		return fail("no file matches %s", c.Path)
	}
	if l := c.Log; l != nil {
		if err := checkBackupLog(l, time.Duration(c.MaxAge), now); err != nil {
			return fail("log %s: %v", l.Path, err)
		}
	}
	step.Phases.Total = time.Since(start)
	step.Success = true
	res.Steps = []StepResult{step}
	res.Success = true
	logger.Debug("backup check passed", "check", c.Name, "newest", newestPath, "count", count)
	return res
}

func checkPGDump(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = readPGDumpHeader(f, size)
	return err
}

// checkBackupLog reads the last lines of the backup script's log: one must
// match success, none may match failure, and the log must have been written
// within maxAge when that is set.
func checkBackupLog(l *config.BackupLog, maxAge time.Duration, now time.Time) error {
	f, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if maxAge > 0 {
		if age := now.Sub(fi.ModTime()); age > maxAge {
			return fmt.Errorf("last written %s ago (%s), more than max_age %s: did the backup script run?",
				roundAge(age), fi.ModTime().Format("2006-01-02 15:04"), config.Duration(maxAge))
		}
	}
	n := l.Lines
	if n <= 0 {
		n = config.DefaultBackupLogTail
	}
	lines, err := lastLines(f, fi.Size(), n)
	if err != nil {
		return err
	}
	if l.Failure != "" {
		re, err := regexp.Compile(l.Failure)
		if err != nil {
			return fmt.Errorf("failure: bad regular expression: %v", err)
		}
		for _, line := range lines {
			if re.MatchString(line) {
				return fmt.Errorf("failure pattern %q matches %q", l.Failure, line)
			}
		}
	}
	if l.Success != "" {
		re, err := regexp.Compile(l.Success)
		if err != nil {
			return fmt.Errorf("success: bad regular expression: %v", err)
		}
		for _, line := range lines {
			if re.MatchString(line) {
				return nil
			}
		}
		last := "the log is empty"
		if len(lines) > 0 {
			last = fmt.Sprintf("last line %q", lines[len(lines)-1])
		}
		return fmt.Errorf("success pattern %q matches none of the last %d lines (%s)", l.Success, len(lines), last)
	}
	return nil
}

// lastLines returns the last n non-blank lines of a file, reading at most
// maxLogTail bytes from its end. Lines that are not UTF-8 are read as
// Latin-1, the "ANSI" of Windows scripts, so that "terminé" matches either way.
func lastLines(r io.ReaderAt, size int64, n int) ([]string, error) {
	off := max(size-maxLogTail, 0)
	buf := make([]byte, size-off)
	if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	if off > 0 {
		// The first line is probably partial: drop it.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var out []string
	for _, line := range bytes.Split(buf, []byte("\n")) {
		line = bytes.TrimRight(line, "\r \t")
		if len(line) == 0 {
			continue
		}
		out = append(out, toUTF8(line))
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// roundAge writes an age to the minute (to the second under a minute).
func roundAge(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return config.Duration(d.Round(time.Minute)).String()
}
