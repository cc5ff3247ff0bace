package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A txnTable finds the first row of each id as a map would, also when the hashes of
// different ids are all one (every slot's bits match: the ids are compared), or share only
// their high bits, and when it grows past the rows it was made for.
func TestTxnTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := make([]string, 3000)
	for g := range ids {
		ids[g] = fmt.Sprintf("T%d", rng.IntN(1200))
	}
	hashOf := map[string]uint64{}
	for name, hash := range map[string]func(string) uint64{
		"one hash": func(string) uint64 { return 42 },
		"one place": func(s string) uint64 { // same high bits, low bits by id
			if _, ok := hashOf[s]; !ok {
				hashOf[s] = uint64(len(hashOf))
			}
			return 7<<32 | hashOf[s]
		},
		"random": func(s string) uint64 {
			if _, ok := hashOf[s]; !ok {
				hashOf[s] = rng.Uint64()
			}
			return hashOf[s]
		},
	} {
		clear(hashOf)
		hashes := make([]uint64, len(ids))
		for g, id := range ids {
			hashes[g] = hash(id)
		}
		for _, made := range []int{0, len(ids)} {
			tab := newTxnTable(made, hashes)
			first := map[string]int{}
			for g, id := range ids {
				kept, dup := tab.add(g, func(k int) bool { return ids[k] == id })
				want, wantDup := first[id]
				if !wantDup {
					first[id] = g
				}
				if dup != wantDup || dup && kept != want {
					t.Fatalf("%s, made for %d: row %d (%s) gave %d %v, want %d %v", name, made, g, id, kept, dup, want, wantDup)
				}
			}
		}
	}
}
