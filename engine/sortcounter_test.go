package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func settlementRest(a, b *SettlementLine) int {
	return cmp.Or(strings.Compare(a.Category, b.Category), strings.Compare(a.PayMethod, b.PayMethod))
}

func varianceRest(a, b *VarianceLine) int { return strings.Compare(a.PayMethod, b.PayMethod) }

// TestSortByID: the settlement and variance lines in sortByID's order, their counters
// numbered in compareTriple order and their keys the ranks of their category and pay method
// (names.ranks), are in the order a plain stable sort by counter, then category and pay
// method gives, whatever order they come in (counters interleaved, repeated, in runs, some
// numbered but without lines, equal keys).
func TestSortByID(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for round := range 50 {
		var lines []SettlementLine
		var variance []VarianceLine
		var counters []triple
		for range rng.IntN(300) {
			c, o := pick("TY", "DT"), fmt.Sprintf("%s%04d", pick("TY", "DT"), rng.IntN(1+round%6)) // few counters in some rounds: parts over 32 lines
			ctr := fmt.Sprintf("%s-%02d", o, rng.IntN(4))
			counters = append(counters, triple{c, o, ctr})
			for range rng.IntN(4) { // runs of one counter, or none
				lines = append(lines, SettlementLine{City: c, Outlet: o, Counter: ctr, Category: pick("BIZ", "HANDSET", "LOCAL_BILL"),
					PayMethod: pick("CASH", "WECHAT", "ALIPAY"), Net: rng.Int64N(1000)})
				variance = append(variance, VarianceLine{City: c, Outlet: o, Counter: ctr, PayMethod: pick("CASH", "WECHAT"), Expected: rng.Int64N(1000)})
			}
		}
		// A counter id names one city and outlet (place): the first triple of an id is kept.
		byID := map[string]triple{}
		for _, tr := range counters {
			if _, ok := byID[tr.counter]; !ok {
				byID[tr.counter] = tr
			}
		}
		for i := range lines {
			tr := byID[lines[i].Counter]
			lines[i].City, lines[i].Outlet = tr.city, tr.outlet
			variance[i].City, variance[i].Outlet = tr.city, tr.outlet
		}
		var ranked []triple
		for _, tr := range byID {
			ranked = append(ranked, tr)
		}
		slices.SortFunc(ranked, compareTriple)
		num := map[string]int32{}
		for i, tr := range ranked {
			num[tr.counter] = int32(i)
		}
		ids := make([]int32, len(lines))
		var cats, pays names
		for i := range lines {
			ids[i] = num[lines[i].Counter]
			cats.id(lines[i].Category)
			pays.id(lines[i].PayMethod)
			pays.id(variance[i].PayMethod)
		}
		catRank, payRank := cats.ranks(), pays.ranks()
		keysL, keysV := make([]int32, len(lines)), make([]int32, len(lines))
		for i := range lines {
			keysL[i] = catRank[cats.id(lines[i].Category)]*int32(len(payRank)) + payRank[pays.id(lines[i].PayMethod)]
			keysV[i] = payRank[pays.id(variance[i].PayMethod)]
		}
		of := func(city, outlet, counter string) triple { return triple{city, outlet, counter} }
		wantL := slices.Clone(lines)
		slices.SortStableFunc(wantL, func(a, b SettlementLine) int {
			return cmp.Or(compareTriple(of(a.City, a.Outlet, a.Counter), of(b.City, b.Outlet, b.Counter)), settlementRest(&a, &b))
		})
		wantV := slices.Clone(variance)
		slices.SortStableFunc(wantV, func(a, b VarianceLine) int {
			return cmp.Or(compareTriple(of(a.City, a.Outlet, a.Counter), of(b.City, b.Outlet, b.Counter)), varianceRest(&a, &b))
		})
		if got := sortByID(lines, ids, keysL, len(ranked)); !slices.Equal(got, wantL) {
			t.Fatalf("round %d: settlement lines in another order than a stable sort's", round)
		}
		if got := sortByID(variance, ids, keysV, len(ranked)); !slices.Equal(got, wantV) {
			t.Fatalf("round %d: variance lines in another order than a stable sort's", round)
		}
	}
}
