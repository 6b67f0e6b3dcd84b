package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type gotFrame struct {
	msg       string
	truncated bool
	bad       bool
}

// frameAll runs a framer over input and checks the byte accounting.
func frameAll(t testing.TB, r io.Reader, inputLen, bufSize, maxSize int) []gotFrame {
	t.Helper()
	f := newFramer(bufio.NewReaderSize(r, bufSize), maxSize)
	var got []gotFrame
	var msgBytes int64
	for i := 0; ; i++ {
		if i > inputLen+2 {
			t.Fatalf("framer does not progress after %d frames", i)
		}
		fr, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		if len(fr.msg) == 0 || len(fr.msg) > maxSize {
			t.Fatalf("message of %d bytes (max %d): %q", len(fr.msg), maxSize, fr.msg)
		}
		msgBytes += int64(len(fr.msg))
		got = append(got, gotFrame{string(fr.msg), fr.truncated, fr.badCount})
	}
	if total := msgBytes + f.skipped + f.discarded; total != int64(inputLen) {
		t.Fatalf("accounting: %d in messages + %d skipped + %d discarded = %d, input %d",
			msgBytes, f.skipped, f.discarded, total, inputLen)
	}
	return got
}

func TestFraming(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		in    string
		max   int
		want  []gotFrame
		small bool // also run with the smallest bufio buffer (16 bytes)
	}{
		{name: "octet counted", in: "5 <1>ab6 <2>abc", want: []gotFrame{{msg: "<1>ab"}, {msg: "<2>abc"}}},
		{name: "LF", in: "<1>a\n<2>b\n", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "NUL", in: "<1>a\x00<2>b\x00", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "CRLF", in: "<1>a\r\n<2>b\r\n", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "CR inside kept", in: "<1>a\rb\n", want: []gotFrame{{msg: "<1>a\rb"}}},
		{name: "mixed per frame", in: "5 <1>ab<2>c\n4 <3>d<4>e\x006 <5>fg",
			want: []gotFrame{{msg: "<1>ab"}, {msg: "<2>c"}, {msg: "<3>d"}, {msg: "<4>e"}, {msg: "<5>fg"}}},
		{name: "last line without terminator", in: "<1>a\n<2>b", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "empty lines ignored", in: "\n\n<1>a\n\r\n\x00\n\r\n<2>b\n\n", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "only separators", in: "\n\r\n\x00", want: nil},
		{name: "octet count with LF between frames", in: "4 <1>a\n4 <2>b\n", want: []gotFrame{{msg: "<1>a"}, {msg: "<2>b"}}},
		{name: "bad length: not digits", in: "12x <1>junk\n5 <1>ab",
			want: []gotFrame{{msg: "12x <1>junk", bad: true}, {msg: "<1>ab"}}},
		{name: "bad length: too large", in: "999999999 <1>a\n<2>b\n",
			want: []gotFrame{{msg: "999999999 <1>a", bad: true}, {msg: "<2>b"}}},
		{name: "bad length: above twice the max", max: 8, in: "17 <1>abcdefghijklmn\n<2>b\n",
			want: []gotFrame{{msg: "17 <1>ab", bad: true, truncated: true}, {msg: "<2>b"}}},
		{name: "bad length: missing space", in: "12<1>abc\n4 <2>b",
			want: []gotFrame{{msg: "12<1>abc", bad: true}, {msg: "<2>b"}}},
		{name: "bad length: zero", in: "0 \n<1>a\n", want: []gotFrame{{msg: "0 ", bad: true}, {msg: "<1>a"}}},
		{name: "text line starting with a number", in: "3 disks failed\n<1>a\n",
			want: []gotFrame{{msg: "3 disks failed", bad: true}, {msg: "<1>a"}}},
		{name: "digits then end of stream", in: "123", want: []gotFrame{{msg: "123", bad: true}}},
		{name: "partial octet frame at end of stream", in: "10 <1>ab", want: []gotFrame{{msg: "<1>ab"}}},
		{name: "oversize octet counted", max: 8, in: "10 <1>abcdefg5 <1>ab",
			want: []gotFrame{{msg: "<1>abcde", truncated: true}, {msg: "<1>ab"}}, small: true},
		{name: "oversize LF", max: 8, in: "<1>abcdefghij\n<2>b\n",
			want: []gotFrame{{msg: "<1>abcde", truncated: true}, {msg: "<2>b"}}, small: true},
		{name: "oversize NUL", max: 8, in: "<1>abcdefghij\x00<2>b\x00",
			want: []gotFrame{{msg: "<1>abcde", truncated: true}, {msg: "<2>b"}}, small: true},
		{name: "exactly max, octet counted", max: 8, in: "8 <1>abcde", want: []gotFrame{{msg: "<1>abcde"}}, small: true},
		{name: "exactly max, LF", max: 8, in: "<1>abcde\n", want: []gotFrame{{msg: "<1>abcde"}}, small: true},
		{name: "exactly max, CRLF", max: 8, in: "<1>abcde\r\n", want: []gotFrame{{msg: "<1>abcde"}}, small: true},
		{name: "max plus one", max: 8, in: "<1>abcdef\n", want: []gotFrame{{msg: "<1>abcde", truncated: true}}, small: true},
		{name: "longer than the buffer, octet counted", max: 200, in: "103 <1>" + long + "\n<2>b\n",
			want: []gotFrame{{msg: "<1>" + long}, {msg: "<2>b"}}, small: true},
		{name: "longer than the buffer, LF", max: 200, in: "<1>" + long + "\r\n<2>b\n",
			want: []gotFrame{{msg: "<1>" + long}, {msg: "<2>b"}}, small: true},
		{name: "longer than buffer and max, LF", max: 50, in: "<1>" + long + "\n<2>b\n",
			want: []gotFrame{{msg: ("<1>" + long)[:50], truncated: true}, {msg: "<2>b"}}, small: true},
		{name: "longer than buffer and max, octet counted", max: 60, in: "103 <1>" + long + "<2>b\n",
			want: []gotFrame{{msg: ("<1>" + long)[:60], truncated: true}, {msg: "<2>b"}}, small: true},
	}
	for _, tt := range tests {
		max := tt.max
		if max == 0 {
			max = 1024
		}
		bufs := []int{4096}
		if tt.small {
			bufs = append(bufs, 16)
		}
		for _, bufSize := range bufs {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.in)
				if oneByte {
					// A frame split across reads, down to single bytes.
					r = iotest.OneByteReader(r)
				}
				got := frameAll(t, r, len(tt.in), bufSize, max)
				if !equalFrames(got, tt.want) {
					t.Errorf("%s (buffer %d, one byte %v):\n got %+v\nwant %+v", tt.name, bufSize, oneByte, got, tt.want)
				}
			}
		}
	}
}

func equalFrames(a, b []gotFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A reader error other than EOF ends the stream without a partial message.
func TestFramingReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("<1>a\n<2>partial"), iotest.ErrReader(boom))
	f := newFramer(bufio.NewReaderSize(r, 64), 1024)
	fr, err := f.next()
	if err != nil || string(fr.msg) != "<1>a" {
		t.Fatalf("first frame %q, %v", fr.msg, err)
	}
	if _, err := f.next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}

func FuzzFraming(f *testing.F) {
	for _, s := range []string{
		"5 <1>ab6 <2>abc", "<1>a\n<2>b\n", "<1>a\x00<2>b", "<1>a\r\n", "12x <1>junk\n5 <1>ab",
		"999999999 <1>a\n", "10 <1>abcdefg5 <1>ab", "\n\r\n\x00", "3 disks\n", "0 \n", "12<1>",
		"17 <1>abcdefghijklmn\n", strings.Repeat("<1>x", 30) + "\r\n",
	} {
		f.Add([]byte(s), uint8(8), false)
		f.Add([]byte(s), uint8(200), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, maxSize uint8, oneByte bool) {
		max := 1 + int(maxSize)%64
		var r io.Reader = bytes.NewReader(in)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		for _, fr := range frameAll(t, r, len(in), 16, max) {
			// Messages are cut, never made up: each is a run of the input.
			if !bytes.Contains(in, []byte(fr.msg)) {
				t.Fatalf("message %q is not in the input", fr.msg)
			}
		}
	})
}

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, streamBufSize) }
