package store

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"5.8.0", true},
		{"5.7.19", false},
		{"6.18.44-fc-v769", true},
		{"4.18.0-372.el8.x86_64", false},
		{"5.15.90.1-microsoft-standard-WSL2", true},
		{"5.10", true},
		{"10.0.1", true},
		{"", false},
		{"linux", false},
	} {
		if got := kernelAtLeast(tc.release, 5, 8); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", tc.release, got, tc.want)
		}
	}
}
