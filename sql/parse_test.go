package sql

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/strand-db/strand/sql/pgerr"
)

// TestDataDriven runs the files in testdata/parse. Commands:
//
//	parse     — Parse the input; print each statement (kind, the text TiDB
//	            was given, the parameter map, Strand's own fields) or the
//	            error as "error SQLSTATE at POSITION: message".
//	tokens    — Tokenize the input and print one token a line.
//	split     — Split the input and print each statement's offset and text.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/parse", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "parse":
				stmts, err := ParseUncached(d.Input)
				if err != nil {
					return formatErr(err)
				}
				var b strings.Builder
				for _, s := range stmts {
					describe(&b, s, "")
				}
				return b.String()
			case "tokens":
				toks, err := Tokenize(d.Input)
				if err != nil {
					return formatErr(err)
				}
				var b strings.Builder
				for _, tk := range toks {
					fmt.Fprintf(&b, "%d %s %q\n", tk.Pos, kindName[tk.Kind], tk.Text)
				}
				return b.String()
			case "split":
				pieces, err := Split(d.Input)
				if err != nil {
					return formatErr(err)
				}
				var b strings.Builder
				for _, p := range pieces {
					fmt.Fprintf(&b, "%d: %s\n", p.Offset, p.Text)
				}
				return b.String()
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

var kindName = map[TokenKind]string{TokIdent: "ident", TokQuotedIdent: "qident", TokString: "string",
	TokNumber: "number", TokParam: "param", TokOp: "op", TokPunct: "punct"}

func formatErr(err error) string {
	var pe *pgerr.Error
	if !errors.As(err, &pe) {
		return "error (no SQLSTATE): " + err.Error() + "\n"
	}
	return fmt.Sprintf("error %s at %d: %s\n", pe.Code, pe.Position, pe.Message)
}

// describe prints a statement: its type, the translated texts and its
// fields other than Info, with TiDB nodes restored to text.
func describe(b *strings.Builder, s Statement, indent string) {
	info := s.StmtInfo()
	v := reflect.ValueOf(s).Elem()
	fmt.Fprintf(b, "%s%s\n", indent, v.Type().Name())
	for _, tr := range info.Translated {
		if indent == "" {
			fmt.Fprintf(b, "%s  tidb: %s\n", indent, tr)
		}
	}
	if info.NumParams > 0 && indent == "" {
		fmt.Fprintf(b, "%s  params: %v (n=%d)\n", indent, info.Params, info.NumParams)
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Name == "Info" || f.Name == "AST" {
			continue
		}
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		if st, ok := fv.Interface().(Statement); ok {
			fmt.Fprintf(b, "%s  %s:\n", indent, f.Name)
			describe(b, st, indent+"    ")
			continue
		}
		fmt.Fprintf(b, "%s  %s: %s\n", indent, f.Name, show(fv))
	}
}

func show(v reflect.Value) string {
	if n, ok := v.Interface().(ast.Node); ok && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		var sb strings.Builder
		if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
			return "<" + err.Error() + ">"
		}
		return sb.String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return show(v.Elem())
	case reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, show(v.Index(i)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if !v.Field(i).IsZero() {
				parts = append(parts, v.Type().Field(i).Name+"="+show(v.Field(i)))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	}
	return fmt.Sprint(v.Interface())
}
