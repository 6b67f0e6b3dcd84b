package history

// migrations is the schema of checks.db, one entry per user_version. Times
// are Unix microseconds, durations microseconds.
var migrations = []string{
	// 1: runs, their steps, and the last run of each check (kept by Record
	// so the checks list reads one row per check instead of scanning runs).
	`CREATE TABLE runs(
		id INTEGER PRIMARY KEY,
		check_name TEXT NOT NULL,
		type TEXT NOT NULL,
		start INTEGER NOT NULL,
		duration_us INTEGER NOT NULL,
		success INTEGER NOT NULL,
		slow INTEGER NOT NULL,
		error TEXT NOT NULL,
		failed_step INTEGER NOT NULL,
		attempts INTEGER NOT NULL,
		vals TEXT
	);
	-- Covers the availability query: it reads only the index.
	CREATE INDEX runs_check_start ON runs(check_name, start, success, slow, duration_us);
	CREATE INDEX runs_start ON runs(start);
	CREATE TABLE steps(
		run_id INTEGER NOT NULL,
		idx INTEGER NOT NULL,
		name TEXT NOT NULL,
		url TEXT NOT NULL,
		success INTEGER NOT NULL,
		error TEXT NOT NULL,
		code INTEGER NOT NULL,
		bytes INTEGER NOT NULL,
		speed REAL NOT NULL,
		dns_us INTEGER NOT NULL,
		connect_us INTEGER NOT NULL,
		tls_us INTEGER NOT NULL,
		ttfb_us INTEGER NOT NULL,
		transfer_us INTEGER NOT NULL,
		total_us INTEGER NOT NULL,
		PRIMARY KEY(run_id, idx)
	) WITHOUT ROWID;
	CREATE TABLE last_run(
		check_name TEXT PRIMARY KEY,
		run_id INTEGER NOT NULL,
		start INTEGER NOT NULL
	);`,
}
