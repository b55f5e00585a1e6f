package wallet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = bytes.Repeat([]byte{7}, 32)
	t0         = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func TestToken(t *testing.T) {
	good, err := NewToken(testSecret, "2160220037090534", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	otherUser, _ := NewToken(testSecret, "2160220043214225", t0.Add(time.Hour))
	rawOther, _ := base64.RawURLEncoding.DecodeString(otherUser)
	// This user's claims under the other token's (valid) MAC.
	spliced := base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw[:len(raw)-macSize]), rawOther[len(rawOther)-macSize:]...))
	for _, c := range []struct {
		name, token string
		secret      []byte
		now         time.Time
		want        string // "" = refused
	}{
		{"OK", good, testSecret, t0, "2160220037090534"},
		{"OKJustBeforeExpiry", good, testSecret, t0.Add(time.Hour - time.Second), "2160220037090534"},
		{"ErrExpired", good, testSecret, t0.Add(time.Hour), ""},
		{"ErrOtherSecret", good, bytes.Repeat([]byte{8}, 32), t0, ""},
		{"ErrNoSecret", good, nil, t0, ""},
		{"ErrVersionByte", flip(0), testSecret, t0, ""},
		{"ErrExpiryChanged", flip(8), testSecret, t0, ""},
		{"ErrUserChanged", flip(12), testSecret, t0, ""},
		{"ErrMACChanged", flip(len(raw) - 1), testSecret, t0, ""},
		{"ErrSpliced", spliced, testSecret, t0, ""},
		{"ErrTruncated", good[:len(good)-4], testSecret, t0, ""},
		{"ErrEmpty", "", testSecret, t0, ""},
		{"ErrNotBase64", strings.Repeat("*", 80), testSecret, t0, ""},
		{"ErrStdBase64Padding", good + "==", testSecret, t0, ""},
		{"ErrHuge", strings.Repeat("A", 10000), testSecret, t0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseToken(c.secret, c.token, c.now)
			if c.want == "" {
				if !errors.Is(err, ErrBadToken) {
					t.Fatalf("got %q, %v; want ErrBadToken", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestNewTokenRefuses(t *testing.T) {
	for _, c := range []struct {
		name, user string
		secret     []byte
	}{
		{"ErrEmptyUser", "", testSecret},
		{"ErrLongUser", strings.Repeat("1", 65), testSecret},
		{"ErrNoSecret", "u", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if tok, err := NewToken(c.secret, c.user, t0); err == nil {
				t.Fatalf("got token %q, want an error", tok)
			}
		})
	}
}

// FuzzParseToken: any text is refused or names the user it was made for;
// never a crash, never another user.
func FuzzParseToken(f *testing.F) {
	good, _ := NewToken(testSecret, "2160220037090534", t0.Add(time.Hour))
	f.Add(good)
	f.Add("")
	f.Add("AQAAAAAA")
	f.Add(good[:len(good)-1] + "B")
	f.Fuzz(func(t *testing.T, token string) {
		user, err := ParseToken(testSecret, token, t0)
		if err == nil && user != "2160220037090534" {
			t.Fatalf("token %q accepted for %q", token, user)
		}
	})
}
