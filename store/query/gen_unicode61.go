//go:build ignore

// gen_unicode61 writes unicode61_tables.go by running SQLite's FTS5
// unicode61 tokenizer over every code point:
//
//	go run -tags sqlite_fts5 gen_unicode61.go
package main

import (
	"context"
	"database/sql"
	"log"
	"os"

	_ "github.com/mattn/go-sqlite3"

	"vigie/store/query/internal/unicode61gen"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	src, err := unicode61gen.Generate(context.Background(), db)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("unicode61_tables.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
