// pingpong: the Go peer of coronet-bench's ping_pong workloads. Two
// goroutines pass a number back and forth over two unbuffered channels; every
// pass is one message. GOMAXPROCS, set by the caller, decides whether they
// share one thread (1) or may run on two (2).
//
//	pingpong N    prints N / seconds, the messages per second
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pingpong MESSAGES")
		os.Exit(2)
	}
	n, err := strconv.ParseUint(os.Args[1], 10, 64)
	if err != nil || n < 2 {
		fmt.Fprintln(os.Stderr, "pingpong: MESSAGES must be a number of at least 2")
		os.Exit(2)
	}
	rounds := int64(n / 2)

	start := time.Now()
	ping := make(chan int64)
	pong := make(chan int64)
	go func() {
		for i := int64(0); i < rounds; i++ {
			pong <- <-ping
		}
	}()
	var sum int64
	for i := int64(0); i < rounds; i++ {
		ping <- i
		sum += <-pong
	}
	seconds := time.Since(start).Seconds()

	if sum != rounds*(rounds-1)/2 {
		fmt.Fprintf(os.Stderr, "pingpong: sum %d, expected %d\n", sum, rounds*(rounds-1)/2)
		os.Exit(3)
	}
	fmt.Printf("%.17g\n", float64(2*rounds)/seconds)
}
