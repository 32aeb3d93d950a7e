package views

import "testing"

// The scale counts keep the largest scale of the values still in a sum,
// whatever order values of each scale come and go in.
func TestScaleCounts(t *testing.T) {
	var v []byte
	for _, step := range []struct {
		scale uint64
		w     int64
		max   uint64
	}{
		{2, 1, 2},
		{0, 2, 2},
		{3, 1, 3},
		{1, 1, 3},
		{3, -1, 2},
		{2, -1, 1},
		{1, -1, 0},
		{5, 2, 5},
		{5, -2, 0},
		{0, -2, 0},
	} {
		v = addScale(v, step.scale, step.w)
		if got := maxScale(v); got != step.max {
			t.Fatalf("after %+d of scale %d: max scale %d, want %d", step.w, step.scale, got, step.max)
		}
	}
	if len(v) != 0 {
		t.Errorf("counts of no values: %x, want none", v)
	}
}
