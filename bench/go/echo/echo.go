// echo: the Go peer of coronet-bench's TCP echo workloads. A goroutine per
// connection reads what has come (up to 4 KiB) and writes it back. The
// caller sets GOMAXPROCS=1.
//
//	echo    listens on 127.0.0.1 (a port the system picks), prints the port
//	        on a line and serves until it is killed
package main

import (
	"fmt"
	"net"
	"os"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(3)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo:", err)
			os.Exit(3)
		}
		go serve(c)
	}
}
