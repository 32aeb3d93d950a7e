package views

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// ProjectSet expands each input row by set-returning functions (unnest,
// jsonb_array_elements, generate_series, ...): the row followed by each
// set of the functions' values, in lockstep as a select list's are
// (exec.ExpandSet). It keeps no state: a row's expansion is a function of
// the row, so a retracted row retracts the rows it expanded to.
type ProjectSet struct {
	Input Node
	Funcs []exec.SetFunc
	// Expand: the one function returns records (a function in FROM with
	// OUT parameters, json_each's key and value), whose fields are
	// appended as columns instead of the record.
	Expand bool
	// Outer (LEFT JOIN LATERAL ... ON true): a row the functions give no
	// values for is passed on once, with Pad NULLs for their columns.
	Outer bool
	Pad   int

	out exec.Row
}

func (p *ProjectSet) children() []Node { return []Node{p.Input} }

func (r *run) projectSet(p *ProjectSet, row exec.Row, w int64) error {
	some := false
	err := exec.ExpandSet(r.env, p.Funcs, row, func(out exec.Row) error {
		some = true
		if !p.Expand {
			return r.emit(p, out, w)
		}
		rec, _ := out[len(row)].(*types.Record)
		if rec == nil {
			return nil
		}
		p.out = append(append(p.out[:0], row...), rec.Fields...)
		return r.emit(p, p.out, w)
	})
	if err != nil || some || !p.Outer {
		return err
	}
	p.out = append(p.out[:0], row...)
	for range p.Pad {
		p.out = append(p.out, nil)
	}
	return r.emit(p, p.out, w)
}
