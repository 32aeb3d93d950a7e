package sqllogic

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestScratch runs the statements of $STRAND_SCRATCH (separated by lines
// of ---) on both servers and prints both answers: a debugging aid.
func TestScratch(t *testing.T) {
	src := os.Getenv("STRAND_SCRATCH")
	if src == "" {
		t.Skip("set STRAND_SCRATCH")
	}
	p := newPair(t)
	for _, stmt := range strings.Split(src, "\n---\n") {
		for _, c := range []struct {
			name string
			o    *Outcome
		}{{"pg", Run(context.Background(), p.pg, stmt, false, nil, nil)}, {"st", Run(context.Background(), p.st, stmt, false, nil, nil)}} {
			fmt.Printf("%s: %s cols=%v\n", c.name, describe(c.o), c.o.Cols)
			for _, r := range render(c.o.Rows, NoSort) {
				fmt.Printf("    %s\n", r)
			}
		}
	}
}
