package exec

import (
	"testing"
	"time"

	"github.com/strand-db/strand/sql/types"
)

// Functions whose results depend on the clock or on chance cannot be
// compared with PostgreSQL; these tests check what they promise.

func callBuiltin(t *testing.T, env *Env, name string, args ...Expr) types.Datum {
	t.Helper()
	for _, f := range Overloads(name) {
		if len(f.Args) != len(args) {
			continue
		}
		ok := true
		for i, a := range args {
			if f.Args[i] != a.Type().OID && f.Args[i] != anyArg {
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, err := (&Call{Fn: f, Args: args, T: f.Ret}).Eval(env, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	t.Fatalf("no overload of %s", name)
	return nil
}

func TestBuiltinClockFunctions(t *testing.T) {
	now := time.Date(2024, 3, 10, 6, 30, 0, 123456000, time.UTC)
	set := types.DefaultSettings()
	set.Location, _ = types.LookupZone("America/New_York")
	env := &Env{Settings: set, Now: now}
	want := types.TimestampFromTime(now)
	for _, name := range []string{"now", "transaction_timestamp", "statement_timestamp"} {
		if got := callBuiltin(t, env, name); got != want {
			t.Errorf("%s() = %v, want %v", name, got, want)
		}
	}
	before := types.TimestampFromTime(time.Now())
	clock := callBuiltin(t, env, "clock_timestamp").(types.TimestampTZ)
	if clock < before || clock > types.TimestampFromTime(time.Now()) {
		t.Errorf("clock_timestamp() = %v, not the current time", clock)
	}
	// age(ts) measures from midnight of the session's current date: 2024-03-10
	// in New York (01:30 local).
	ts := &Const{Val: types.Timestamp(int64(types.MakeDate(2024, 2, 9)) * usPerDay), T: tTimestamp}
	if got := callBuiltin(t, env, "age", ts); got != (types.Interval{Months: 1, Days: 1}) {
		t.Errorf("age(2024-02-09) = %+v, want 1 mon 1 day", got)
	}
	for _, f := range append(Overloads("clock_timestamp"), append(Overloads("random"), Overloads("gen_random_uuid")...)...) {
		if !f.Volatile {
			t.Errorf("%s is not volatile", f.Name)
		}
	}
}

func TestBuiltinRandomAndUUID(t *testing.T) {
	env := &Env{Settings: types.DefaultSettings()}
	seen := map[float64]bool{}
	for i := 0; i < 100; i++ {
		r := callBuiltin(t, env, "random").(float64)
		if r < 0 || r >= 1 {
			t.Fatalf("random() = %v", r)
		}
		seen[r] = true
	}
	if len(seen) < 90 {
		t.Errorf("random() repeats: %d distinct of 100", len(seen))
	}
	u := callBuiltin(t, env, "gen_random_uuid").(types.UUID)
	if u[6]>>4 != 4 || u[8]>>6 != 2 {
		t.Errorf("gen_random_uuid() = %x: not a version 4, variant 1 UUID", u)
	}
	if u == callBuiltin(t, env, "gen_random_uuid").(types.UUID) {
		t.Error("gen_random_uuid() repeats")
	}
	if v := callBuiltin(t, env, "version"); v != VersionString {
		t.Errorf("version() = %v", v)
	}
}

// Every overload must be callable: an implementation and a known result
// type.
func TestBuiltinRegistrySane(t *testing.T) {
	for key, fs := range builtins {
		for _, f := range fs {
			if f.Impl == nil {
				t.Errorf("%s %s%v: no Impl", key, f.Name, f.Args)
			}
			if !f.Ret.Known() {
				t.Errorf("%s %s%v: result type %v unknown", key, f.Name, f.Args, f.Ret)
			}
		}
	}
}
