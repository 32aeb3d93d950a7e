package log

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// panickyHook writes one hook key per change and panics on a change of
// the key "boom", as a bug in view maintenance would.
type panickyHook struct{}

func (panickyHook) Prepare(_ HookState, _ *Catalog, changes []Change) ([]Mutation, error) {
	var muts []Mutation
	for _, c := range changes {
		if bytes.Equal(c.Key, []byte("boom")) {
			var m map[string]int
			m["boom"]++ // a nil map write: a runtime panic
		}
		muts = append(muts, Mutation{Key: append([]byte{NSHookFirst}, c.Key...), Value: []byte("seen")})
	}
	return muts, nil
}

func (panickyHook) OnCatalog(HookState, *Catalog, *Catalog) ([]Mutation, error) { return nil, nil }

// A panic in the commit hook fails the intent that caused it, with nothing
// of it written, and the log goes on taking writes.
func TestHookPanicFailsTheIntentOnly(t *testing.T) {
	l, err := Open(Options{Dir: "data", FS: vfs.NewMem(), Logger: quiet, Hook: panickyHook{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	if _, err := put(t, l, tab, "a", "1", Cond{}); err != nil {
		t.Fatalf("write before the panic: %v", err)
	}
	// One intent: a key the hook takes, then the one it panics on.
	_, err = l.Commit(context.Background(), &Intent{Writes: []Write{
		{Table: tab, Key: []byte("b"), Row: []byte("2")},
		{Table: tab, Key: []byte("boom"), Row: []byte("3")},
	}})
	if err == nil || !strings.Contains(err.Error(), "commit hook panicked") {
		t.Fatalf("intent with the panicking change: err = %v, want a commit hook panic", err)
	}
	if _, err := put(t, l, tab, "c", "4", Cond{}); err != nil {
		t.Fatalf("write after the panic: %v", err)
	}
	snap := l.Snapshot()
	defer snap.Release()
	for key, want := range map[string]bool{"a": true, "b": false, "boom": false, "c": true} {
		_, ok, err := snap.Head(tab, []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("key %q: present = %v, want %v", key, ok, want)
		}
	}
	// The hook's own writes: those of the failed intent are not there.
	var hookKeys []string
	if err := snap.ScanRange([]byte{NSHookFirst}, []byte{NSHookFirst + 1}, func(k, _ []byte) error {
		hookKeys = append(hookKeys, string(k[1:]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(hookKeys, ","); got != "a,c" {
		t.Errorf("hook keys = %s, want a,c", got)
	}
}
