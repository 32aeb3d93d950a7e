package exec

import (
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// HopWindowsFunc is the set-returning function behind HOP(t, ts, slide,
// size) in FROM (planner/windowtvf.go): the starts of the hopping windows
// that hold ts, each a multiple of slide from 1970-01-01, latest first.
// size must be a multiple of slide; a NULL argument gives no window.
const HopWindowsFunc = "strand_hop_windows"

// epochMicros is 1970-01-01 00:00:00 in timestamp microseconds (from
// 2000-01-01): the origin RisingWave's and Flink's windows align to.
const epochMicros = -946684800000000

func hopWindows(args []types.Datum) (setIter, error) {
	for _, a := range args {
		if a == nil {
			return emptySet, nil
		}
	}
	slide, size := args[1].(types.Interval), args[2].(types.Interval)
	if slide.Months != 0 || size.Months != 0 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "HOP windows cannot be sized in months or years")
	}
	s := slide.Micros + int64(slide.Days)*usPerDay
	w := size.Micros + int64(size.Days)*usPerDay
	if s <= 0 || w <= 0 || w%s != 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "HOP's window size must be a positive multiple of its hop size")
	}
	var ts int64
	switch v := args[0].(type) {
	case types.Timestamp:
		ts = int64(v)
	case types.TimestampTZ:
		ts = int64(v)
	}
	base, err := dateBin(types.Interval{Micros: s}, ts, epochMicros)
	if err != nil {
		return nil, err
	}
	n, k := w/s, int64(0)
	return func() (types.Datum, bool, error) {
		if k >= n {
			return nil, false, nil
		}
		start := base - k*s
		k++
		if _, ok := args[0].(types.Timestamp); ok {
			return types.Timestamp(start), true, nil
		}
		return types.TimestampTZ(start), true, nil
	}, nil
}
