// insert1m: Go's own map on the insert_ab workload (1M distinct int64
// keys, from an empty map), for reference next to gomap in
// docs/performance.md. Standard library only:
//
//	GO111MODULE=off go run tests/bench/go/insert1m/main.go
package main

import (
	"fmt"
	"sort"
	"time"
)

// The key generator of tests/bench/insert_ab.c: splitmix64's finalizer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func main() {
	const n = 1000000
	const rounds = 11
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = mix64(uint64(i)*0x9e3779b97f4a7c15 + 7)
	}
	var empty, presized []float64
	for r := 0; r < rounds; r++ {
		for _, hint := range []int{0, n} {
			t0 := time.Now()
			m := make(map[uint64]uint64, hint)
			for i, k := range keys {
				m[k] = uint64(i)
			}
			ns := float64(time.Since(t0).Nanoseconds()) / n
			if len(m) != n {
				panic("lost keys")
			}
			if hint == 0 {
				empty = append(empty, ns)
			} else {
				presized = append(presized, ns)
			}
		}
	}
	sort.Float64s(empty)
	sort.Float64s(presized)
	fmt.Printf("go map[uint64]uint64, 1M inserts, %d rounds; ns per insert, median (min)\n", rounds)
	fmt.Printf("from empty %.1f (%.1f), presized %.1f (%.1f)\n",
		empty[rounds/2], empty[0], presized[rounds/2], presized[0])
}
