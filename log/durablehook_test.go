package log

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// notingHook notes each intent's first key, writes one hook key per
// change, and fails an intent that writes the key "bad" (after noting it). Durable records
// what comes back, and whether each note's batch was already durable and
// published when it came.
type notingHook struct {
	l   *Log
	tab TableID
	mu  sync.Mutex
	// got are the notes in the order they came back.
	got []string
	// pubs are the publications they came with.
	pubs []uint64
	// early counts notes whose key the published state did not have yet.
	early int
	// unlent counts notes whose key the snapshot lent with them lacks.
	unlent int
}

func (h *notingHook) PrepareIntent(in *HookInput) ([]Mutation, error) {
	if len(in.Changes) > 0 {
		// Before it may fail: the note of a failed intent is dropped.
		in.Note = string(in.Changes[0].Key)
	}
	var muts []Mutation
	for _, c := range in.Changes {
		if string(c.Key) == "bad" {
			return nil, fmt.Errorf("the hook refuses key %q", c.Key)
		}
		muts = append(muts, Mutation{Key: append([]byte{NSHookFirst}, c.Key...), Value: []byte("seen")})
	}
	return muts, nil
}

func (h *notingHook) Prepare(HookState, *Catalog, []Change) ([]Mutation, error) { return nil, nil }

func (h *notingHook) OnCatalog(HookState, *Catalog, *Catalog) ([]Mutation, error) { return nil, nil }

func (h *notingHook) Durable(lent *Snapshot, notes []any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pub, lsn := lent.Publication(), lent.LSN()
	snap := h.l.Snapshot()
	defer snap.Release()
	for _, n := range notes {
		key := n.(string)
		if snap.Publication() < pub || snap.LSN() < lsn {
			h.early++
		} else if _, ok, err := snap.Head(h.tab, []byte(key)); err != nil || !ok {
			h.early++
		}
		if _, ok, err := lent.Head(h.tab, []byte(key)); err != nil || !ok {
			h.unlent++
		}
		h.got = append(h.got, key)
		h.pubs = append(h.pubs, pub)
	}
}

// A DurableHook gets back the notes of the intents that committed, each
// once, in commit order, after its batch is published; those of intents
// that failed (a condition, the hook's own error) never come back.
func TestDurableHookNotesComeBackInOrder(t *testing.T) {
	h := &notingHook{}
	l, err := Open(Options{Dir: "data", FS: vfs.NewMem(), Logger: quiet, Hook: h})
	if err != nil {
		t.Fatal(err)
	}
	h.l = l
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	h.mu.Lock()
	h.tab = tab
	h.mu.Unlock()
	// Concurrent writers, so that batches hold several intents; each
	// writer's own keys commit in its order.
	const writers, each = 8, 200
	var wg sync.WaitGroup
	committed := make([][]string, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("w%d-%03d", w, i)
				cond := Cond{}
				switch i % 10 {
				case 3:
					key = "bad" // the hook fails it
				case 7:
					cond = Cond{Kind: AtVersion, Version: 99} // the condition fails it
				}
				if _, err := put(t, l, tab, key, "v", cond); err == nil {
					committed[w] = append(committed[w], key)
				} else if key != "bad" && cond.Kind == 0 {
					t.Errorf("write %s: %v", key, err)
				}
			}
		}(w)
	}
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	perWriter := make([][]string, writers)
	for _, key := range h.got {
		var w int
		if _, err := fmt.Sscanf(key, "w%d-", &w); err != nil || w < 0 || w >= writers {
			t.Fatalf("note %q: not a committed intent's", key)
		}
		perWriter[w] = append(perWriter[w], key)
	}
	for w := range committed {
		if strings.Join(perWriter[w], " ") != strings.Join(committed[w], " ") {
			t.Fatalf("writer %d: notes came back as\n%v\nits commits were\n%v", w, perWriter[w], committed[w])
		}
	}
	if len(committed[0]) != each*8/10 {
		t.Fatalf("writer 0 committed %d intents, want %d", len(committed[0]), each*8/10)
	}
	for i := 1; i < len(h.pubs); i++ {
		if h.pubs[i] < h.pubs[i-1] {
			t.Fatalf("publication %d came after %d", h.pubs[i], h.pubs[i-1])
		}
	}
	if h.early > 0 {
		t.Fatalf("%d notes came back before their batch was published", h.early)
	}
	if h.unlent > 0 {
		t.Fatalf("%d notes came back with a snapshot that lacks their write", h.unlent)
	}
}
