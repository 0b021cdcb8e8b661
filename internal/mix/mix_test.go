package mix

import (
	"fmt"
	"testing"
)

// TestFinalizeIsSplitMix64: the first outputs of SplitMix64 seeded with 0
// and with 1234567, as the reference generator gives them.
func TestFinalizeIsSplitMix64(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		want []uint64
	}{
		{0, []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}},
		{1234567, []uint64{0x599ed017fb08fc85, 0x2c73f08458540fa5, 0x883ebce5a3f27c77}},
	} {
		s := tc.seed
		for i, want := range tc.want {
			s += Golden
			if got := Finalize(s); got != want {
				t.Errorf("seed %d output %d: %#x, want %#x", tc.seed, i, got, want)
			}
		}
	}
}

func ExampleFinalize() {
	// The draw of row 7 in [0, 1), the same whatever order rows come in.
	u := float64(Finalize(7+Golden)>>11) / (1 << 53)
	fmt.Printf("%.4f\n", u)
	// Output: 0.3898
}
