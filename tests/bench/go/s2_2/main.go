package main
import "sync"
func main() {
m := make(map[int]int)
var wg sync.WaitGroup
wg.Add(2)
go func() { defer wg.Done(); for i := 0; i < 1000; i++ { _ = m[i] } }() // 读
go func() { defer wg.Done(); for i := 0; i < 1000; i++ { m[i] = i } }() // 写
wg.Wait()
}
