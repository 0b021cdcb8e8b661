package scoring

import "testing"

// TestDriftShare: plans up to twice DriftSampleSends are measured whole;
// bigger ones on a power-of-two share that keeps at least
// DriftSampleSends of their sends.
func TestDriftShare(t *testing.T) {
	for _, tc := range []struct {
		sends int
		want  float64
	}{
		{0, 1},
		{27_112, 1},
		{2*DriftSampleSends - 1, 1},
		{2 * DriftSampleSends, 0.5},
		{1_000_000, 0.25},
		{1_999_999, 0.25},
		{2_000_000, 0.125},
	} {
		got := DriftShare(tc.sends)
		if got != tc.want {
			t.Errorf("DriftShare(%d) = %v, want %v", tc.sends, got, tc.want)
		}
		if got < 1 && float64(tc.sends)*got < DriftSampleSends {
			t.Errorf("DriftShare(%d) = %v keeps %v sends, fewer than %d", tc.sends, got, float64(tc.sends)*got, DriftSampleSends)
		}
	}
}
