package views

import (
	"strings"
	"testing"

	"github.com/strand-db/strand/log"
)

// A panic inside PrepareIntent (here in compiling a view's plan) drops
// what the maintainer keeps between intents, so that the next intent
// reads the state again from the log instead of a cache the panic may
// have left half updated; the panic goes on to the log, which fails the
// intent (log's TestHookPanicFailsTheIntentOnly).
func TestPanicDropsMaintainerState(t *testing.T) {
	cat := (&log.Catalog{Schemas: map[string]bool{"public": true}, Tables: map[log.TableID]*log.TableDesc{}}).Clone()
	if err := cat.AddTable(&log.TableDesc{Schema: "public", Name: "v", Kind: log.View, Versions: []log.SchemaVersion{{
		Version: 1, Columns: []log.Column{{Name: "x", TypeOID: 20, Typmod: -1}},
	}}}); err != nil {
		t.Fatal(err)
	}
	m := &Maintainer{Compile: func(*log.TableDesc, *log.Catalog) (*Plan, error) { panic("compile bug") }}
	m.cache = newStateCache()
	m.ov = newOverlay(nil)
	m.mu.cat = &log.Catalog{}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "compile bug") {
				t.Fatalf("PrepareIntent: recovered %v, want the compile panic passed on", r)
			}
		}()
		m.PrepareIntent(&log.HookInput{Old: cat, Catalog: cat})
	}()
	if m.cache != nil || m.ov != nil || m.run != nil || m.mu.cat != nil || m.mu.compiled != nil {
		t.Fatalf("after the panic: cache %v, overlay %v, run %v, catalog %v, plans %v; want all dropped",
			m.cache != nil, m.ov != nil, m.run != nil, m.mu.cat != nil, m.mu.compiled != nil)
	}
}
