package ipass

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// strictShapes are 1 MiB bodies of the shapes that cost a token walker the
// most, each a valid object the strict check accepts.
func strictShapes() map[string][]byte {
	const mib = 1 << 20
	fill := func(head, unit, sep, tail string) []byte {
		var b bytes.Buffer
		b.WriteString(head)
		for b.Len()+len(unit)+len(sep)+len(tail) < mib {
			if b.Len() > len(head) {
				b.WriteString(sep)
			}
			b.WriteString(unit)
		}
		b.WriteString(tail)
		return b.Bytes()
	}
	var keys bytes.Buffer
	keys.WriteString(`{`)
	for i := 0; keys.Len() < mib-32; i++ {
		if i > 0 {
			keys.WriteByte(',')
		}
		keys.WriteString(`"k` + strconv.Itoa(i) + `":0`)
	}
	keys.WriteString(`}`)
	var escKeys bytes.Buffer
	escKeys.WriteString(`{`)
	for i := 0; escKeys.Len() < mib-48; i++ {
		if i > 0 {
			escKeys.WriteByte(',')
		}
		escKeys.WriteString(`"\u00e9\n` + strconv.Itoa(i) + `":0`)
	}
	escKeys.WriteString(`}`)
	return map[string][]byte{
		"zeros array":          fill(`{"a":[`, `0`, `,`, `]}`),
		"empty arrays":         fill(`{"a":[`, `[]`, `,`, `]}`),
		"empty objects":        fill(`{"a":[`, `{}`, `,`, `]}`),
		"nested 31 deep":       fill(`{"a":[`, strings.Repeat("[", 30)+strings.Repeat("]", 30), `,`, `]}`),
		"one long string":      fill(`{"a":"`, `x`, ``, `"}`),
		"escaped string":       fill(`{"a":"`, `\n\u00e9`, ``, `"}`),
		"many keys":            keys.Bytes(),
		"many escaped keys":    escKeys.Bytes(),
		"numbers":              fill(`{"a":[`, `-1.5e10`, `,`, `]}`),
		"literals":             fill(`{"a":[`, `true,false,null`, `,`, `]}`),
		"strings array":        fill(`{"a":[`, `"s"`, `,`, `]}`),
		"duplicate at the end": fill(`{"a":[`, `0`, `,`, `],"a":1}`),
	}
}

// BenchmarkCheckStrictJSON: the G13 checks on 1 MiB of each shape. The
// target is at most 50 ms per MiB whatever the shape (issue 8, break 6);
// README "Performance" lists the figures.
func BenchmarkCheckStrictJSON(b *testing.B) {
	for name, data := range strictShapes() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				_ = checkStrictJSON(data, "body", MaxBodyDepth)
			}
		})
	}
}

func TestStrictShapesAreAccepted(t *testing.T) {
	for name, data := range strictShapes() {
		err := checkStrictJSON(data, "body", MaxBodyDepth)
		if name == "duplicate at the end" {
			if !strings.Contains(ErrorMessage(err), "duplicate key") {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzCheckStrictJSON compares the scanner with the token walker it
// replaced: on valid JSON the same verdict and message, on anything else
// both refuse it.
func FuzzCheckStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":[1,{"c":"\u0000"}]}}`,
		`{"\u0000":1}`, `{"a":"\\u0000"}`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"\ud83d\ude00":1,"😀":2}`, `{"\ud83d":1,"\ufffd":2}`, `[1]`, `"s"`, `{"a":1} x`, `{"a":`, ` `, "",
		`{"a":[1,2,{"b":1,"b":2}]}`, `{"x\"y":1,"x\"y":2}`, `{"a\/b":1,"a/b":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := checkStrictJSON(data, "body", 4)
		want := checkStrictJSONTokens(data, "body", 4)
		if json.Valid(data) {
			if (got == nil) != (want == nil) || ErrorMessage(got) != ErrorMessage(want) {
				t.Fatalf("%q: scanner %v, token walker %v", data, got, want)
			}
			return
		}
		if got == nil || want == nil || ErrorCode(got) != CodeParamIllegal {
			t.Fatalf("%q: invalid JSON: scanner %v, token walker %v", data, got, want)
		}
	})
}
