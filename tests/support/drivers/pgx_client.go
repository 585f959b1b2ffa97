// pgx v4 (github.com/jackc/pgx/v4), pgx.Connect and conn.Query per request (contract:
// _common.py). Built once per test session by tests/support/drivers/__init__.py, offline
// from Debian's golang-github-jackc-pgx-v4-dev (GOPATH=/usr/share/gocode, GO111MODULE=off).
//
// Default: statement_cache_mode=prepare with statement_cache_capacity=512: each query is
// prepared as lrupsc_<cache>_<n> (a process-wide cache counter from 1 and a per-cache
// counter from 0, so every process names its first statement lrupsc_1_0) and reused.
// Fix: statement_cache_mode=describe in the connection string: the cache keeps only the
// statement's description, and each query is sent as the unnamed statement (Parse, Bind,
// Execute in one round trip). Source:
// https://github.com/jackc/pgx/blob/v4.15.0/conn.go (ParseConfig, Query) and
// https://github.com/jackc/pgconn/blob/v1.11.0/stmtcache/lru.go (NewLRU, Get)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v4"
)

// Set at build time (-ldflags "-X main.version=...") from the package that provided pgx.
var version = ""

type outcome struct {
	Ok      bool     `json:"ok"`
	Error   string   `json:"error"`
	Errors  int      `json:"errors"`
	Queries int      `json:"queries"`
	Seen    []string `json:"seen"`
	Driver  string   `json:"driver"`
	Version string   `json:"version"`
	Variant string   `json:"variant"`
}

func env(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
}

var (
	queries  = env("DRIVER_QUERIES", 12)
	pause    = time.Duration(env("DRIVER_PAUSE_MS", 20)) * time.Millisecond
	limit    = 3 + env("DRIVER_INSTANCE", 0)
	query    = fmt.Sprintf("SELECT id, name FROM driver_item WHERE id > $1 ORDER BY id LIMIT %d", limit)
	password = ""
)

func (o *outcome) failed(err error) {
	text := strings.SplitN(strings.TrimSpace(err.Error()), "\n", 2)[0]
	if password != "" {
		text = strings.ReplaceAll(text, password, "***")
	}
	o.Errors++
	if o.Error == "" {
		o.Error = text
	}
	for _, s := range o.Seen {
		if s == text {
			return
		}
	}
	if len(o.Seen) < 3 {
		o.Seen = append(o.Seen, text)
	}
}

func (o *outcome) emit() {
	o.Ok = o.Errors == 0
	line, _ := json.Marshal(o)
	fmt.Println(string(line))
}

func waitStart() {
	barrier := os.Getenv("DRIVER_BARRIER")
	if barrier == "" {
		return
	}
	if f, err := os.Create(filepath.Join(barrier, fmt.Sprintf("ready-%d", os.Getpid()))); err == nil {
		f.Close()
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(barrier, "go")); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func request(ctx context.Context, conn *pgx.Conn, i int) error {
	rows, err := conn.Query(ctx, query, i)
	if err != nil {
		return err
	}
	var ids []int
	for rows.Next() {
		var id int
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) != limit {
		return fmt.Errorf("wrong result: %d rows from a query with LIMIT %d", len(ids), limit)
	}
	for k, id := range ids {
		if id != i+1+k {
			return fmt.Errorf("wrong result: ids %v, expected %d from %d", ids, limit, i+1)
		}
	}
	return nil
}

func main() {
	variant := "default"
	if len(os.Args) > 1 {
		variant = os.Args[1]
	}
	out := &outcome{Seen: []string{}, Driver: "pgx", Version: version, Variant: variant}
	dsn := os.Getenv("DATABASE_URL")
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		password, _ = u.User.Password()
	}
	if variant == "fix" {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "statement_cache_mode=describe"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		out.failed(err)
		out.emit()
		return
	}
	waitStart()
	for i := 0; i < queries; i++ {
		if err := request(ctx, conn, i); err != nil {
			out.failed(err)
		}
		out.Queries++
		time.Sleep(pause)
	}
	conn.Close(ctx)
	out.emit()
}
