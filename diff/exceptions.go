package diff

import (
	"cmp"
	"slices"

	"settle/engine"
)

// identity is what makes two exceptions of two runs the same finding (OUTPUTS.md): code,
// counter_id, feed, txn_id and, for counter-level codes, the pay method/category Key.
type identity struct{ code, counter, feed, txnID, key string }

func identityOf(e *engine.Exception) identity {
	return identity{string(e.Code), e.Counter, e.Feed, e.TxnID, e.Key}
}

// compareIdentity orders by code, feed, txn_id, key (the counter is grouped on already).
func compareIdentity(x, y *engine.Exception) int {
	return cmp.Or(cmp.Compare(x.Code, y.Code), cmp.Compare(x.Feed, y.Feed), cmp.Compare(x.TxnID, y.TxnID),
		cmp.Compare(x.Key, y.Key), cmp.Compare(x.Counter, y.Counter))
}

// compareContent orders by what "changed" looks at: the detail too when details counts.
func compareContent(x, y *engine.Exception, details bool) int {
	detail := 0
	if details {
		detail = cmp.Compare(x.Detail, y.Detail)
	}
	return cmp.Or(cmp.Compare(x.Severity, y.Severity), cmpBool(x.HasAmount, y.HasAmount),
		cmp.Compare(amountOf(x), amountOf(y)), detail,
		cmp.Compare(x.City, y.City), cmp.Compare(x.Outlet, y.Outlet))
}

// compareException is the order of exceptions in a Counter's lists: identity, content,
// then source.
func compareException(x, y engine.Exception) int {
	return cmp.Or(compareIdentity(&x, &y), compareContent(&x, &y, true), cmp.Compare(x.Source, y.Source))
}

func amountOf(e *engine.Exception) int64 {
	if !e.HasAmount {
		return 0
	}
	return e.Amount
}

func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

// changedFields lists what differs between two exceptions of one identity; the detail only
// when details counts.
func changedFields(o, n *engine.Exception, details bool) []string {
	var f []string
	if o.Severity != n.Severity {
		f = append(f, "severity")
	}
	if o.HasAmount != n.HasAmount || amountOf(o) != amountOf(n) {
		f = append(f, "amount")
	}
	if details && o.Detail != n.Detail {
		f = append(f, "detail")
	}
	if o.City != n.City {
		f = append(f, "city")
	}
	if o.Outlet != n.Outlet {
		f = append(f, "outlet_id")
	}
	return f
}

type exceptionSink struct {
	added, resolved func(engine.Exception)
	changed         func(ExceptionChange)
	// ignoreDetails: a detail that differs is no change, the runs' details being in
	// different languages (Cause.DetailsCompared).
	ignoreDetails bool
}

// compareExceptions matches the exceptions of a and b by identity. One identity may hold
// several findings (two duplicate rows of one txn_id; malformed deposit rows, which have no
// txn_id); they pair up first where nothing differs, then where the source (file and line)
// is the same, then in order; what is left over was added or resolved.
func compareExceptions(a, b []engine.Exception, sink exceptionSink) {
	type group struct{ a, b []int }
	groups := make(map[identity]*group, len(b))
	order := make([]identity, 0, len(b))
	get := func(e *engine.Exception) *group {
		id := identityOf(e)
		g := groups[id]
		if g == nil {
			g = &group{}
			groups[id] = g
			order = append(order, id)
		}
		return g
	}
	for i := range a {
		g := get(&a[i])
		g.a = append(g.a, i)
	}
	for i := range b {
		g := get(&b[i])
		g.b = append(g.b, i)
	}
	for _, id := range order {
		g := groups[id]
		if len(g.a) == 1 && len(g.b) == 1 { // the usual case
			pairExceptions(&a[g.a[0]], &b[g.b[0]], sink)
			continue
		}
		matchGroup(a, b, g.a, g.b, sink)
	}
}

func pairExceptions(o, n *engine.Exception, sink exceptionSink) {
	if f := changedFields(o, n, !sink.ignoreDetails); f != nil {
		sink.changed(ExceptionChange{Old: *o, New: *n, Fields: f})
	}
}

// matchGroup pairs the findings ia of a with ib of b, all of one identity.
func matchGroup(a, b []engine.Exception, ia, ib []int, sink exceptionSink) {
	byContent := func(s []engine.Exception) func(x, y int) int {
		return func(x, y int) int {
			return cmp.Or(compareContent(&s[x], &s[y], !sink.ignoreDetails), cmp.Compare(s[x].Source, s[y].Source))
		}
	}
	slices.SortStableFunc(ia, byContent(a))
	slices.SortStableFunc(ib, byContent(b))
	usedA, usedB := make([]bool, len(ia)), make([]bool, len(ib))
	// 1. Equal content: unchanged. Both lists are in content order, so one merge does it.
	for i, j := 0, 0; i < len(ia) && j < len(ib); {
		switch c := compareContent(&a[ia[i]], &b[ib[j]], !sink.ignoreDetails); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			usedA[i], usedB[j] = true, true
			i++
			j++
		}
	}
	// 2. The same source row, 3. in order.
	for _, sameSource := range []bool{true, false} {
		for i := range ia {
			if usedA[i] {
				continue
			}
			for j := range ib {
				if usedB[j] || sameSource && a[ia[i]].Source != b[ib[j]].Source {
					continue
				}
				usedA[i], usedB[j] = true, true
				pairExceptions(&a[ia[i]], &b[ib[j]], sink)
				break
			}
		}
	}
	for i, used := range usedA {
		if !used {
			sink.resolved(a[ia[i]])
		}
	}
	for j, used := range usedB {
		if !used {
			sink.added(b[ib[j]])
		}
	}
}
