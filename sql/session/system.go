package session

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
)

// systemTables answers pg_catalog and information_schema relations from
// the catalog. (Filled in as the clients that need them are supported.)
type systemTables struct {
	s   *Session
	cat *log.Catalog
}

func (st *systemTables) Lookup(schema, name string) (exec.Node, bool) {
	return nil, false
}
