package ipass

import "testing"

func TestColour(t *testing.T) {
	for in, want := range map[string]string{
		"#1677FF": "#1677FF", "#1677ff": "#1677FF", "#222": "#222222", "#2a2": "#22AA22", "#FFF": "#FFFFFF",
	} {
		if got, ok := Colour(in); !ok || got != want {
			t.Errorf("Colour(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "#", "222", "#22", "#2222", "#12345", "#1234567", "#GGG", "blue", "#12 45F", " #222", "#２２２"} {
		if got, ok := Colour(in); ok || IsColour(in) {
			t.Errorf("Colour(%q) = %q, accepted; want refused", in, got)
		}
	}
}
