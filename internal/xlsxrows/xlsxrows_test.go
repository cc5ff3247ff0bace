package xlsxrows

import (
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestWriter(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	w := New(sw, 1) // as after a header row
	w.Add("a", "b")
	w.Skip()
	w.AddHeight(30, "c")
	w.Merge(1, 4, 2, 4)
	if w.Row() != 4 || w.Err() != nil {
		t.Fatalf("row %d, err %v", w.Row(), w.Err())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{nil, {"a", "b"}, nil, {"c"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if h, _ := f.GetRowHeight("Sheet1", 4); h != 30 {
		t.Errorf("row 4 height %v, want 30", h)
	}
	if m, _ := f.GetMergeCells("Sheet1"); len(m) != 1 || m[0].GetStartAxis() != "A4" || m[0].GetEndAxis() != "B4" {
		t.Errorf("merged cells %v, want A4:B4", m)
	}
}

// TestFirstError: after an error every call does nothing, and Flush returns that error.
func TestFirstError(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	w := New(sw, 0)
	w.Add("a")
	w.Merge(0, 1, 2, 1) // column 0 does not exist
	first := w.Err()
	if first == nil {
		t.Fatal("merge of column 0: no error")
	}
	w.Add("b")
	w.Skip()
	w.Merge(1, 1, 2, 1)
	if w.Row() != 1 || w.Err() != first {
		t.Errorf("after the error: row %d, err %v; want 1, %v", w.Row(), w.Err(), first)
	}
	if err := w.Flush(); err != first {
		t.Errorf("Flush: %v, want %v", err, first)
	}
}
