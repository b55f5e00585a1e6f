package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// warnLoosePermissions logs one warning, naming the path and the chmod that
// fixes it, for each of the data directory, the server's private key files,
// the demo client's key and the SQLite database that group or others may
// access. Whoever reads the signing keys can sign as the server; whoever
// reads the database has the wallet secret and can forge wallet links.
// Files ipass creates are private already (0600 in a 0700 directory); these
// are files an operator made or a directory that existed before. They are
// not changed: the operator may have reasons (a backup user's group), and a
// server that rewrites permissions at start-up hides the problem.
func warnLoosePermissions(logger *slog.Logger, cfg *serveConfig, keys *serverKeySet) {
	if runtime.GOOS == "windows" {
		return // Unix permission bits say nothing there
	}
	dir := filepath.Clean(cfg.dataDir)
	if open, mode := loose(dir); open {
		logger.Warn("the data directory is open to other users", "path", dir, "mode", mode, "fix", "chmod 700 "+shellQuote(dir))
	}
	seen := map[string]bool{}
	keyFile := func(path string) {
		if path == "" || seen[path] {
			return
		}
		seen[path] = true
		if open, mode := loose(path); open {
			logger.Warn("a private key file is open to other users", "path", path, "mode", mode, "fix", "chmod 600 "+shellQuote(path))
		}
	}
	keyFile(keys.rsaSign.path)
	keyFile(keys.eccSign.path)
	keyFile(keys.encrypt.path)
	keyFile(cfg.prevEncryptionKey)
	keyFile(cfg.tlsKey)
	keyFile(filepath.Join(cfg.dataDir, "demo-client.pem")) // also when --demo=false now
	if db, ok := strings.CutPrefix(cfg.db, "sqlite:"); ok {
		// -wal and -shm take the main file's mode, so they are fixed with it.
		var fix []string
		var mode string
		for _, p := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
			if open, m := loose(p); open {
				fix = append(fix, shellQuote(p))
				if mode == "" {
					mode = m
				}
			}
		}
		if len(fix) > 0 {
			logger.Warn("the database file is open to other users (it holds the wallet secret)", "path", db, "mode", mode, "fix", "chmod 600 "+strings.Join(fix, " "))
		}
	}
}

// loose reports whether path exists with any permission for group or
// others, and its mode in octal.
func loose(path string) (bool, string) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, ""
	}
	perm := fi.Mode().Perm()
	return perm&0o077 != 0, fmt.Sprintf("%04o", uint32(perm))
}
