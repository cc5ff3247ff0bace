package engine

// RuleGroups names Apply's rule groups, in the order their findings are joined, and
// "newDay": the indexes they share.
var RuleGroups = []string{"settle", "summary", "purchases", "reversals", "remote", "cards", "invoices", "newDay"}

// RuleDay is the day Apply's rules read.
type RuleDay = day

// NewRuleDay builds the day of lo's feeds as Apply does.
func NewRuleDay(lo *Loaded) *RuleDay {
	return newDay(lo.l.day, lo.Feeds, lo.pulls, lo.cfg.Lookback, lo.cfg.History, lo.l.lang)
}

// RunRuleGroup runs rule group i of Apply (RuleGroups) alone over d, as Apply runs it, and
// returns its findings.
func RunRuleGroup(lo *Loaded, d *RuleDay, i int) []Exception {
	r := *d
	r.excs = nil
	switch RuleGroups[i] {
	case "settle":
		r.settle()
	case "summary":
		r.summary()
	case "purchases":
		r.purchases()
	case "reversals":
		r.reversals()
	case "remote":
		r.remote()
	case "cards":
		r.cards()
	case "invoices":
		r.invoices()
	case "newDay":
		NewRuleDay(lo)
	}
	return r.excs
}

// CacheBesideRows is cacheBesideRows, for the tests that take both ways of writing the cache.
var CacheBesideRows = &cacheBesideRows

// WaitAhead waits until a's reading of the cache is done.
func WaitAhead(a *CacheAhead) { <-a.done }

// BeforeCacheWrite is beforeCacheWrite, for the tests that slow the cache's writer.
var BeforeCacheWrite = &beforeCacheWrite
