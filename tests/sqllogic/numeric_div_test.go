package sqllogic

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestNumericDivisionEqualsPostgres compares numeric division and avg()
// with PostgreSQL's digit for digit, over random operands of every
// magnitude, scale and sign: the quotient is computed only to the digits
// PostgreSQL keeps (exec.NumericQuo), so its rounding must be PostgreSQL's
// in every case, ties and long runs of nines included.
func TestNumericDivisionEqualsPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	pc := pgoracle.StartT(t).Connect(t)
	sc := strandtest.Start(t, "").Connect(t)
	r := rand.New(rand.NewPCG(7, 11))
	num := func() string {
		digits := 1 + r.IntN(25)
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteByte('-')
		}
		for i := 0; i < digits; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		s := strings.TrimLeft(b.String(), "-0")
		if s == "" {
			s = "1"
		}
		if strings.HasPrefix(b.String(), "-") {
			s = "-" + s
		}
		if point := r.IntN(len(s) + 8); point < len(s) && s[len(s)-point-1] != '-' && point > 0 {
			s = s[:len(s)-point] + "." + s[len(s)-point:]
		} else if point >= len(s) {
			// A small value: 0.000ddd.
			neg := strings.HasPrefix(s, "-")
			s = strings.TrimPrefix(s, "-")
			s = "0." + strings.Repeat("0", point-len(s)) + s
			if neg {
				s = "-" + s
			}
		}
		return s
	}
	var rows []string
	for i := 0; i < 3000; i++ {
		x, y := num(), num()
		switch r.IntN(6) {
		case 0:
			// Quotients with a tie or a run of nines at the last digit.
			x, y = fmt.Sprint(r.IntN(2000)-1000), []string{"8", "16", "32", "3", "7", "9999", "0.0625"}[r.IntN(7)]
		case 1:
			y = fmt.Sprint(1 + r.IntN(50))
		}
		rows = append(rows, fmt.Sprintf("(%d, %d, '%s'::numeric, '%s'::numeric)", i, i%97, x, y))
	}
	values := "(VALUES " + strings.Join(rows, ", ") + ") v(i, g, x, y)"
	for _, q := range []string{
		"SELECT i, x, y, x / y FROM " + values,
		"SELECT g, avg(x), avg(y), sum(x) / count(*) FROM " + values + " GROUP BY g",
		"SELECT i, avg(x) OVER (PARTITION BY g ORDER BY i) FROM " + values,
	} {
		got := strandtest.SortedRows(t, sc, q)
		want := strandtest.SortedRows(t, pc, q)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%.60s...: %d rows differ from PostgreSQL's\n%s", q, len(got), strandtest.RowsDiff(got, want))
		}
	}
}
