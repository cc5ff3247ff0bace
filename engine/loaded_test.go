package engine

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/feed"
)

// TestLoadThenApply: Load hands back the final feeds and the input digest before the rules;
// Apply's Result owns those same records, and a Loaded that is never applied is released.
func TestLoadThenApply(t *testing.T) {
	d := dayOf(r(LP, "txn_id=L1"), r(ORD, "txn_id=T1"))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := NewConfig()
	cfg.Lang = "en"
	cfg.Date = testDate
	cfg.Mem = mem

	ld, err := Load(t.Context(), cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	feeds, digest := ld.Feeds, ld.InputDigest
	if n := feeds[feed.LocalPayment].NumRows(); n != 1 {
		t.Errorf("local_payment rows = %d, want 1", n)
	}
	res, err := ld.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if res.InputDigest != digest {
		t.Errorf("Result.InputDigest = %s, Loaded.InputDigest %s", res.InputDigest, digest)
	}
	for f, rec := range feeds {
		if res.Feeds[f] != rec {
			t.Errorf("Result.Feeds[%s] is not the loaded record", feed.ID(f))
		}
	}
	ld.Release() // spent: nothing left to free
	res.Release()

	again, err := Load(t.Context(), cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if again.InputDigest != digest {
		t.Errorf("a second Load's digest = %s, want %s", again.InputDigest, digest)
	}
	again.Release() // never applied
}
