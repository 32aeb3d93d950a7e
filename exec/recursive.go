package exec

// WorkTable holds the rows of a recursive query's working table: the rows
// the previous iteration produced, which the recursive term reads.
type WorkTable struct {
	rows []Row
}

// WorkTableScan reads the working table of the RecursiveUnion it is part
// of (the self-reference of WITH RECURSIVE).
type WorkTableScan struct {
	WT   *WorkTable
	Cols []Column
}

func (s *WorkTableScan) Columns() []Column { return s.Cols }
func (s *WorkTableScan) Run(rt *Runtime, emit func(Row) error) error {
	for _, r := range s.WT.rows {
		if err := emit(r); err != nil {
			return runStop(err)
		}
	}
	return nil
}
func (s *WorkTableScan) Explain(e *Explainer) { e.Add("WorkTable Scan") }

// RecursiveUnion evaluates WITH RECURSIVE as PostgreSQL does: it emits the
// rows of Init and makes them the working table; then, until an iteration
// yields nothing new, it runs Step (which reads the working table), emits
// its rows and makes them the next working table. Without All (UNION), a
// row already produced is dropped, from both the output and the next
// working table.
type RecursiveUnion struct {
	Init, Step Node
	WT         *WorkTable
	All        bool
}

func (u *RecursiveUnion) Columns() []Column { return u.Init.Columns() }

func (u *RecursiveUnion) Run(rt *Runtime, emit func(Row) error) error {
	cols := u.Columns()
	seen := map[string]bool{}
	var kbuf []byte
	var next []Row
	// A consumer's ErrStop (a LIMIT) may be swallowed by the inputs'
	// operators; remember it so that the recursion stops too.
	var stop error
	collect := func(r Row) error {
		if !u.All {
			kbuf = kbuf[:0]
			for i, c := range cols {
				kbuf = appendRowKey(kbuf, c.T, r[i])
			}
			if seen[string(kbuf)] {
				return nil
			}
			seen[string(kbuf)] = true
		}
		r = append(Row(nil), r...)
		next = append(next, r)
		if err := emit(r); err != nil {
			stop = err
			return err
		}
		return nil
	}
	if err := u.Init.Run(rt, collect); err != nil || stop != nil {
		return runStop(firstErr(err, stop))
	}
	for len(next) > 0 {
		if err := ctxErr(rt); err != nil {
			return err
		}
		u.WT.rows, next = next, nil
		if err := u.Step.Run(rt, collect); err != nil || stop != nil {
			u.WT.rows = nil
			return runStop(firstErr(err, stop))
		}
	}
	u.WT.rows = nil
	return nil
}

func (u *RecursiveUnion) Explain(e *Explainer) {
	e.Add("Recursive Union")
	e.Child(u.Init)
	e.Child(u.Step)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
