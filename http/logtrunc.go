package http

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// Caps on what one log line may carry. Paths, Client-Ids and methods come
// from unauthenticated requests: a 900 KiB path must not make a 900 KB
// line (issue 8, break 6). Errors get more room, for a panic's stack.
const (
	maxLogString  = 256
	maxLogError   = 8 << 10
	maxLogMessage = 1 << 10
)

// truncatingHandler cuts every string value, error and message it passes
// on, so no input reaches a log line whole whatever the call site logs.
type truncatingHandler struct{ next slog.Handler }

func truncating(h slog.Handler) slog.Handler {
	if _, ok := h.(truncatingHandler); ok {
		return h
	}
	return truncatingHandler{h}
}

func (h truncatingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h truncatingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, cut(r.Message, maxLogMessage), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(truncateAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h truncatingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	cut := make([]slog.Attr, len(as))
	for i, a := range as {
		cut[i] = truncateAttr(a)
	}
	return truncatingHandler{h.next.WithAttrs(cut)}
}

func (h truncatingHandler) WithGroup(name string) slog.Handler {
	return truncatingHandler{h.next.WithGroup(cut(name, maxLogString))}
}

func truncateAttr(a slog.Attr) slog.Attr {
	a.Key = cut(a.Key, maxLogString)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(cut(v.String(), maxLogString))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = truncateAttr(ga)
		}
		a.Value = slog.GroupValue(out...)
	case slog.KindAny:
		limit := maxLogString
		if _, ok := v.Any().(error); ok {
			limit = maxLogError
		}
		a.Value = slog.StringValue(cut(fmt.Sprint(v.Any()), limit))
	default: // numbers, bools, times, durations: bounded already
		a.Value = v
	}
	return a
}

// cut keeps at most n bytes of s, at a rune boundary, and says how much
// was left out.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
