package attachment

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
)

func testAEAD(t testing.TB) cipher.AEAD {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func seal(t testing.TB, aead cipher.AEAD, hdr, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	s, err := newSealer(&out, aead, hdr)
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes exercise chunk boundaries falling inside writes.
	for p := plain; len(p) > 0; {
		k := min(len(p), 1+mrand.IntN(100_000))
		if _, err := s.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(aead cipher.AEAD, hdr, sealed []byte) ([]byte, error) {
	return io.ReadAll(newOpener(bytes.NewReader(sealed), aead, hdr))
}

func TestStreamRoundTrip(t *testing.T) {
	aead := testAEAD(t)
	hdr := fileHeader(3, 42)
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3*chunkSize + 17} {
		plain := make([]byte, size)
		_, _ = rand.Read(plain)
		sealed := seal(t, aead, hdr, plain)
		chunks := max(1, (size+chunkSize-1)/chunkSize)
		if want := headerSize + size + chunks*aead.Overhead(); len(sealed) != want {
			t.Errorf("size %d: sealed %d bytes, want %d (%d chunks)", size, len(sealed), want, chunks)
		}
		got, err := open(aead, hdr, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("size %d: round trip failed: %v", size, err)
		}
		// Random access agrees with the stream.
		ra := newOpenerAt(bytes.NewReader(sealed), aead, hdr, int64(size))
		buf := make([]byte, size)
		if n, err := ra.ReadAt(buf, 0); n != size || (err != nil && err != io.EOF) || !bytes.Equal(buf, plain) {
			t.Errorf("size %d: ReadAt got %d bytes, %v", size, n, err)
		}
		if size > 10 {
			mid := make([]byte, 10)
			if _, err := ra.ReadAt(mid, int64(size-10)); err != nil || !bytes.Equal(mid, plain[size-10:]) {
				t.Errorf("size %d: ReadAt at the end: %v", size, err)
			}
		}
	}
}

func TestStreamRejectsTampering(t *testing.T) {
	aead := testAEAD(t)
	hdr := fileHeader(1, 7)
	plain := make([]byte, 3*chunkSize+100)
	_, _ = rand.Read(plain)
	sealed := seal(t, aead, hdr, plain)
	enc := chunkSize + aead.Overhead()
	chunk := func(i int) []byte { // ciphertext of chunk i (the last may be short)
		start := headerSize + i*enc
		return sealed[start:min(start+enc, len(sealed))]
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	flipped := bytes.Clone(sealed)
	flipped[headerSize+enc+5] ^= 1
	cases := map[string][]byte{
		"bit flipped in chunk 1":               flipped,
		"truncated at a chunk boundary":        sealed[:headerSize+2*enc],
		"truncated inside the last chunk":      sealed[:len(sealed)-1],
		"last chunk dropped, earlier one last": sealed[:headerSize+3*enc],
		"chunks reordered":                     join(hdr, chunk(1), chunk(0), chunk(2), chunk(3)),
		"extended after the last chunk":        join(sealed, []byte("more")),
		"a whole chunk appended":               join(sealed, chunk(1)),
		"header only":                          hdr,
		"empty":                                nil,
	}
	for name, blob := range cases {
		got, err := open(aead, hdr, blob)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
		// Whatever came out before the error is a true prefix: the bad
		// chunk itself never reaches the reader.
		if !bytes.HasPrefix(plain, got) || len(got)%chunkSize != 0 {
			t.Errorf("%s: %d bytes returned are not whole authenticated chunks", name, len(got))
		}
	}
	// Another file's header (a swapped blob) or key fails at once.
	if got, err := open(aead, fileHeader(1, 8), sealed); !errors.Is(err, ErrCorrupt) || len(got) != 0 {
		t.Errorf("wrong file id: %d bytes, %v", len(got), err)
	}
	if got, err := open(testAEAD(t), hdr, sealed); !errors.Is(err, ErrCorrupt) || len(got) != 0 {
		t.Errorf("wrong key: %d bytes, %v", len(got), err)
	}
}

// TestStreamNeverBuffersAFile streams 8 MiB through seal and open with
// readers and writers that hold nothing, and checks the digest.
func TestStreamNeverBuffersAFile(t *testing.T) {
	aead := testAEAD(t)
	hdr := fileHeader(1, 9)
	const size = 8 << 20
	src := io.LimitReader(mrand.NewChaCha8([32]byte{1}), size)
	want := sha256.New()
	pr, pw := io.Pipe()
	go func() {
		s, err := newSealer(pw, aead, hdr)
		if err == nil {
			_, err = io.Copy(s, io.TeeReader(src, want))
		}
		if err == nil {
			err = s.Close()
		}
		pw.CloseWithError(err)
	}()
	got := sha256.New()
	n, err := io.Copy(got, newOpener(pr, aead, hdr))
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("streamed %d bytes, err %v, digests equal %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

func BenchmarkSeal(b *testing.B) {
	aead := testAEAD(b)
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		s, _ := newSealer(io.Discard, aead, fileHeader(1, 1))
		_, _ = s.Write(buf)
		_ = s.Close()
	}
}
