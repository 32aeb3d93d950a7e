package planner

import (
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// resolve chooses the overload of a function or operator for bound
// arguments and coerces the arguments to it, following PostgreSQL's
// func_select_candidate in outline: exact matches first; then candidates
// every argument can reach by implicit cast (unknowns reach anything),
// ranked by how many arguments match exactly, then by preferred types; an
// unknown argument beside a known one is taken to be of the known type.
func (eb *exprBinder) resolve(name string, isOp bool, args []exec.Expr) (*exec.Func, []exec.Expr, error) {
	cands := exec.Overloads(name)
	if len(cands) == 0 {
		return nil, nil, undefinedFunc(name, isOp, args)
	}
	argT := make([]types.OID, len(args))
	var known types.OID
	allUnknownSame := true
	for i, a := range args {
		argT[i] = a.Type().OID
		if argT[i] != types.UnknownOID {
			if known == 0 {
				known = argT[i]
			} else if known != argT[i] {
				allUnknownSame = false
			}
		}
	}
	// For binary operators over the numeric tower and friends, the common
	// type gives PostgreSQL's answer directly (int4 + int8 → int8).
	if isOp && len(args) == 2 {
		if ct, ok := exec.CommonType(args[0].Type(), args[1].Type()); ok {
			for _, f := range cands {
				if len(f.Args) == 2 && f.Args[0] == ct.OID && f.Args[1] == ct.OID {
					return eb.apply(f, args)
				}
			}
		}
	}
	best, bestScore, ambiguous := (*exec.Func)(nil), -1, false
	for _, f := range cands {
		ft := f.Args
		if f.Variadic {
			if len(args) < len(ft)-1 {
				continue
			}
			for len(ft) < len(args) {
				ft = append(ft[:len(ft):len(ft)], ft[len(ft)-1])
			}
		}
		if len(ft) != len(args) {
			continue
		}
		score, ok := 0, true
		for i, at := range argT {
			switch {
			case ft[i] == at:
				score += 4
			case at == types.UnknownOID:
				// PostgreSQL: an unknown beside a known type is taken to be
				// of that type; otherwise the string category wins.
				switch {
				case known != 0 && allUnknownSame && ft[i] == known:
					score += 4
				case exec.Category(ft[i]) == 'S':
					score += 2
					if exec.Preferred(ft[i]) {
						score++
					}
				case exec.Preferred(ft[i]):
					score++
				}
			case ft[i] == anyOID:
				score += 2
			case exec.ImplicitCast(at, ft[i]):
				score += 1
				if exec.Preferred(ft[i]) {
					score++
				}
			default:
				ok = false
			}
		}
		if !ok {
			continue
		}
		switch {
		case score > bestScore:
			best, bestScore, ambiguous = f, score, false
		case score == bestScore:
			ambiguous = true
		}
	}
	if best == nil {
		return nil, nil, undefinedFunc(name, isOp, args)
	}
	if ambiguous {
		if isOp {
			return nil, nil, pgerr.New(pgerr.AmbiguousFunction, "operator is not unique: %s", signature(name, isOp, args))
		}
		return nil, nil, pgerr.New(pgerr.AmbiguousFunction, "function %s is not unique", signature(name, isOp, args)).
			WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
	}
	return eb.apply(best, args)
}

// anyOID marks a polymorphic argument in a builtin's signature.
const anyOID = types.OID(2276)

func (eb *exprBinder) apply(f *exec.Func, args []exec.Expr) (*exec.Func, []exec.Expr, error) {
	out := make([]exec.Expr, len(args))
	for i, a := range args {
		want := f.Args[min(i, len(f.Args)-1)]
		if want == anyOID {
			a2, err := eb.resolveUnknown(a, tText)
			if err != nil {
				return nil, nil, err
			}
			out[i] = a2
			continue
		}
		c, err := eb.coerce(a, types.Make(want), "argument")
		if err != nil {
			return nil, nil, err
		}
		out[i] = c
	}
	return f, out, nil
}

func signature(name string, isOp bool, args []exec.Expr) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.Type().String()
	}
	if isOp {
		if len(args) == 1 {
			return name + " " + parts[0]
		}
		return parts[0] + " " + name + " " + parts[1]
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

func undefinedFunc(name string, isOp bool, args []exec.Expr) error {
	if isOp {
		return pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s", signature(name, isOp, args)).
			WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	return pgerr.New(pgerr.UndefinedFunction, "function %s does not exist", signature(name, isOp, args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}
