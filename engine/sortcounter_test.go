package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortByCounter: the settlement and variance lines in sortByCounter's order are in the
// order a plain stable sort by counter, then category and pay method gives, whatever order
// they come in (counters interleaved, repeated, in runs).
func TestSortByCounter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for round := range 50 {
		var lines []SettlementLine
		var variance []VarianceLine
		for range rng.IntN(300) {
			c, o := pick("TY", "DT"), fmt.Sprintf("%s%04d", pick("TY", "DT"), rng.IntN(6))
			ctr := fmt.Sprintf("%s-%02d", o, rng.IntN(4))
			for range 1 + rng.IntN(3) { // runs of one counter
				lines = append(lines, SettlementLine{City: c, Outlet: o, Counter: ctr, Category: pick("BIZ", "HANDSET", "LOCAL_BILL"),
					PayMethod: pick("CASH", "WECHAT", "ALIPAY"), Net: rng.Int64N(1000)})
				variance = append(variance, VarianceLine{City: c, Outlet: o, Counter: ctr, PayMethod: pick("CASH", "WECHAT"), Expected: rng.Int64N(1000)})
			}
		}
		wantL := slices.Clone(lines)
		slices.SortStableFunc(wantL, func(a, b SettlementLine) int {
			return cmp.Or(compareTriple(settlementCounter(&a), settlementCounter(&b)), settlementRest(&a, &b))
		})
		wantV := slices.Clone(variance)
		slices.SortStableFunc(wantV, func(a, b VarianceLine) int {
			return cmp.Or(compareTriple(varianceCounter(&a), varianceCounter(&b)), varianceRest(&a, &b))
		})
		if got := sortByCounter(lines, settlementCounter, settlementRest); !slices.Equal(got, wantL) {
			t.Fatalf("round %d: settlement lines in another order than a stable sort's", round)
		}
		if got := sortByCounter(variance, varianceCounter, varianceRest); !slices.Equal(got, wantV) {
			t.Fatalf("round %d: variance lines in another order than a stable sort's", round)
		}
	}
}
