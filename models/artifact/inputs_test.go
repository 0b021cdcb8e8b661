package artifact

import "testing"

func TestInputsSame(t *testing.T) {
	sealed := func(edit func(*Inputs)) *Inputs {
		in := &Inputs{Method: "m", Files: []InputFile{{Path: "b", Size: 2, Fingerprint: "y"}, {Path: "a", Size: 1, Fingerprint: "x"}},
			Settings: map[string]string{"seed": "1", "as_of": "2026-11-01T00:00:00Z"}}
		if edit != nil {
			edit(in)
		}
		in.Seal()
		return in
	}
	base := sealed(nil)
	tampered := sealed(nil)
	tampered.Settings["seed"] = "2" // digest left as it was
	tests := []struct {
		name  string
		other *Inputs
		want  bool
	}{
		{"equal, files in another order", sealed(func(in *Inputs) { in.Files[0], in.Files[1] = in.Files[1], in.Files[0] }), true},
		{"another setting", sealed(func(in *Inputs) { in.Settings["seed"] = "2" }), false},
		{"another file size", sealed(func(in *Inputs) { in.Files[0].Size = 3 }), false},
		{"another method", sealed(func(in *Inputs) { in.Method = "n" }), false},
		{"digest does not match content", tampered, false},
		{"none recorded", nil, false},
	}
	for _, tc := range tests {
		if got := base.Same(tc.other); got != tc.want {
			t.Errorf("%s: Same = %v, want %v", tc.name, got, tc.want)
		}
	}
}
