//go:build ignore

// gen_common rebuilds data/common.txt.gz, the common-password list, from
// zxcvbn's passwords.txt frequency list (see data/SOURCE.md).
//
//	go generate ./internal/password
//	go run gen_common.go -in /path/to/passwords.txt   # explicit source
//
// Without -in it reads the copy in the Go module cache
// (github.com/trustelem/zxcvbn@v1.0.1/data/passwords.txt); fetch it there
// with `go mod download github.com/trustelem/zxcvbn@v1.0.1` if missing.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/text/unicode/norm"
)

const module = "github.com/trustelem/zxcvbn@v1.0.1"

func main() {
	in := flag.String("in", "", "zxcvbn passwords.txt (default: from the module cache)")
	out := flag.String("out", "data/common.txt.gz", "output file")
	flag.Parse()
	if *in == "" {
		cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			log.Fatalf("go env GOMODCACHE: %v", err)
		}
		*in = filepath.Join(strings.TrimSpace(string(cache)), filepath.FromSlash(module), "data", "passwords.txt")
	}
	f, err := os.Open(*in)
	if err != nil {
		log.Fatalf("%v (fetch it with: go mod download %s)", err, module)
	}
	defer f.Close()

	// Keep the list's rank order (most common first); lower-case and NFKC
	// as Policy.Check compares; drop duplicates that this creates.
	var buf bytes.Buffer
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		w := strings.ToLower(norm.NFKC.String(fields[0]))
		if seen[w] {
			continue
		}
		seen[w] = true
		buf.WriteString(w)
		buf.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}

	// No name or time in the gzip header, so the output is reproducible.
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, gz.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d entries, %d bytes gzipped\n", *out, len(seen), gz.Len())
}
