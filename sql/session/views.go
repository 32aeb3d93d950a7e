package session

import (
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// CompileView builds a stored view's incremental plan; the maintainer calls
// it for every view of a new catalog. Names in the definition resolve in
// the view's own schema, then public.
func CompileView(td *log.TableDesc, cat *log.Catalog) (*views.Plan, error) {
	b := planner.NewBuilder(cat, []string{td.Schema, "public"}, types.DefaultSettings(), nil)
	return b.CompileView(td)
}

// NewMaintainer makes the view maintainer to give the log as its commit
// hook, compiling views with the planner.
func NewMaintainer() *views.Maintainer {
	m := views.NewMaintainer()
	m.Compile = CompileView
	return m
}
