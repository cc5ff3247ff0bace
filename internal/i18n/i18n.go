// Package i18n is the translation table of settle's person-facing texts: every text is a typed
// Key with a Chinese and an English form, so a missing translation fails a test and a
// misspelt key fails to compile. It imports nothing of settle, so any package may use it.
package i18n

import (
	"fmt"
	"iter"
	"sync"
)

// Lang is a language of the texts: Zh (the default) or En.
type Lang int

const (
	Zh Lang = iota
	En
)

// Parse returns the language of code: "zh" (or empty) or "en".
func Parse(code string) (Lang, error) {
	switch code {
	case "", "zh":
		return Zh, nil
	case "en":
		return En, nil
	}
	return Zh, fmt.Errorf("lang %q: want zh or en", code)
}

// String is the language's code: zh or en.
func (g Lang) String() string {
	if g == En {
		return "en"
	}
	return "zh"
}

// Key names one text of the table.
type Key int

// S returns the text of k in g.
func (g Lang) S(k Key) string { return table[k][g] }

// F formats the text of k in g with args.
func (g Lang) F(k Key, args ...any) string { return fmt.Sprintf(table[k][g], args...) }

// ReportKeys yields the keys of the report labels, in table order: the texts a report may
// show besides data and names.
func ReportKeys() iter.Seq[Key] {
	return func(yield func(Key) bool) {
		for k := firstReport; k <= lastReport; k++ {
			if !yield(k) {
				return
			}
		}
	}
}

// PageKeys yields the keys of the page texts, in table order.
func PageKeys() iter.Seq[Key] {
	return func(yield func(Key) bool) {
		for k := firstPage; k <= lastPage; k++ {
			if !yield(k) {
				return
			}
		}
	}
}

// Name is the name a page template gives k; empty for a key that is not a page text.
func (k Key) Name() string { return pageNames[k] }

// PageKey returns the page text a template names.
func PageKey(name string) (Key, bool) {
	k, ok := pageByName()[name]
	return k, ok
}

var pageByName = sync.OnceValue(func() map[string]Key {
	m := make(map[string]Key, lastPage-firstPage+1)
	for k := range PageKeys() {
		m[pageNames[k]] = k
	}
	return m
})
