package store

// partitionMigrations is the schema of one day's log database.
var partitionMigrations = []string{
	// 1: records, their lookup indexes and the full-text index. The FTS table
	// borrows its text from logs (external content) so messages are stored
	// once; it is filled by explicit inserts in the writer's transaction
	// because a trigger costs three times as much per row.
	`CREATE TABLE logs(
		id INTEGER PRIMARY KEY,
		ts INTEGER NOT NULL,
		received INTEGER NOT NULL,
		host TEXT NOT NULL,
		app TEXT NOT NULL,
		procid TEXT NOT NULL,
		msgid TEXT NOT NULL,
		facility INTEGER NOT NULL,
		severity INTEGER NOT NULL,
		source TEXT NOT NULL,
		message TEXT NOT NULL,
		fields TEXT
	);
	CREATE INDEX logs_host ON logs(host);
	CREATE INDEX logs_app ON logs(app);
	CREATE INDEX logs_severity ON logs(severity);
	CREATE VIRTUAL TABLE fts USING fts5(message, content='logs', content_rowid='id', columnsize=0);
	-- columnsize=0: no per-row size record, which only bm25 ranking reads
	-- (results are ordered by time, never by rank).
	-- FTS5 keeps a batch's terms in memory up to hashsize and writes them as
	-- one segment at commit; with the 1 MB default a 20,000-record batch
	-- became dozens of segments, each merged again later. automerge 8 merges
	-- less often than the default 4. Together: about 3x the insert rate, for
	-- somewhat more segments to read per query (measured in docs/storage.md).
	INSERT INTO fts(fts, rank) VALUES('hashsize', 16777216);
	INSERT INTO fts(fts, rank) VALUES('automerge', 8);
	INSERT INTO fts(fts, rank) VALUES('crisismerge', 32);`,
	// 2: the last batch sequence of each agent committed into this file,
	// written in the batch's own transaction (store/agents.go).
	`CREATE TABLE agent_batches(agent TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
	// 3: every batch sequence committed into this file, since agents keep
	// several batches in flight and they may commit out of order.
	`CREATE TABLE agent_batch_seqs(agent TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(agent, seq)) WITHOUT ROWID;`,
}

// metaMigrations is the schema of vigie.db, the small database of everything
// that is not a log record.
var metaMigrations = []string{
	`CREATE TABLE users(
		name TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created INTEGER NOT NULL
	);`,
	// 2: senders and agents with their counts (store/sources.go).
	`CREATE TABLE sources(
		source TEXT PRIMARY KEY,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		records INTEGER NOT NULL,
		parse_errors INTEGER NOT NULL,
		host TEXT NOT NULL
	);`,
}
