// bench_gofeed: parses every realfeeds file with gofeed, N rounds, repeats,
// and prints one JSON line: {"tool","bytes","items","ok","mbps","items_per_s"}.
// Usage: bench_gofeed <corpus/realfeeds dir> <rounds> <repeats>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"github.com/mmcdole/gofeed"
)

// cpuSeconds is the process CPU time (user+system, all threads: the GC's
// too). The machine is shared; CPU time is what "one core" means. Run with
// GOMAXPROCS=1.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) +
		float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

type entry struct {
	File  string `json:"file"`
	Items int    `json:"items"`
}

func main() {
	dir := os.Args[1]
	rounds, _ := strconv.Atoi(os.Args[2])
	repeats, _ := strconv.Atoi(os.Args[3])
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		panic(err)
	}
	var index []entry
	if err := json.Unmarshal(raw, &index); err != nil {
		panic(err)
	}
	bodies := make([][]byte, len(index))
	total := 0
	for i, e := range index {
		bodies[i], err = os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			panic(err)
		}
		total += len(bodies[i])
	}
	// Correctness: same plausibility rule as newsflow's bench_parse.
	ok := 0
	var failed []string
	for i, e := range index {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(bodies[i]))
		good := err == nil && f != nil && f.Title != "" &&
			len(f.Items) >= e.Items-1 && len(f.Items) <= e.Items
		if good {
			for _, it := range f.Items {
				if it.Title == "" && it.Link == "" && it.Description == "" {
					continue
				}
				if it.Title == "" || it.Link == "" {
					good = false
					break
				}
			}
		}
		if good {
			ok++
		} else {
			failed = append(failed, e.File)
		}
	}
	var secs []float64
	items := 0
	for r := 0; r < repeats; r++ {
		items = 0
		start := cpuSeconds()
		for k := 0; k < rounds; k++ {
			for i := range bodies {
				f, err := gofeed.NewParser().Parse(bytes.NewReader(bodies[i]))
				if err == nil && f != nil {
					items += len(f.Items)
				}
			}
		}
		secs = append(secs, cpuSeconds()-start)
	}
	sort.Float64s(secs)
	med := secs[len(secs)/2]
	out, _ := json.Marshal(map[string]any{
		"tool": "gofeed v1.3.0", "bytes": total, "items": items / rounds,
		"ok": ok, "feeds": len(index), "failed": failed,
		"mbps":        float64(total*rounds) / med / 1e6,
		"items_per_s": float64(items) / med,
	})
	fmt.Println(string(out))
}
