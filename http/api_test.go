package http_test

import (
	"testing"

	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// opener opens a fresh, migrated database of one engine.
type opener = func(testing.TB) *sqlstore.DB

// TestAPI runs the whole API suite over real HTTP on every engine: SQLite
// always, PostgreSQL when IPASS_TEST_POSTGRES_URL is set (required in CI).
func TestAPI(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("WorkedExamples", func(t *testing.T) { testWorkedExamples(t, open) })
			t.Run("ErrorCases", func(t *testing.T) { testErrorCases(t, open) })
			t.Run("Expiry", func(t *testing.T) { testExpiry(t, open) })
			t.Run("BadInput", func(t *testing.T) { testBadInput(t, open) })
		})
	}
}
