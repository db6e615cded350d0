// mockoidc: a local OpenID Connect issuer for the integration suite (hack/programs/README.md).
//
// It serves github.com/oauth2-proxy/mockoidc (pinned in go.mod) on a loopback address with a
// fixed client id and secret. Every authorization request is approved at once as mockoidc's
// default user (jane.doe@example.com, email_verified true): the login needs no form.
//
// It prints one JSON line on stdout once it accepts connections:
//
//	{"issuer":"http://127.0.0.1:<port>/oidc","clientID":"...","clientSecret":"...","email":"..."}
//
// and runs until SIGTERM or SIGINT.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address; loopback only")
	clientID := flag.String("client-id", "ai-workloads-e2e", "the OAuth client id the issuer accepts")
	clientSecret := flag.String("client-secret", "ai-workloads-e2e-secret", "the OAuth client secret the issuer accepts")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("mockoidc: -addr %q: %v", *addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("mockoidc: -addr %q: only a loopback IP address is allowed", *addr)
	}

	m, err := mockoidc.NewServer(nil)
	if err != nil {
		log.Fatalf("mockoidc: %v", err)
	}
	m.ClientID = *clientID
	m.ClientSecret = *clientSecret

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("mockoidc: listen %s: %v", *addr, err)
	}
	if err := m.Start(ln, nil); err != nil {
		log.Fatalf("mockoidc: %v", err)
	}

	line, _ := json.Marshal(map[string]string{
		"issuer":       m.Issuer(),
		"clientID":     m.ClientID,
		"clientSecret": m.ClientSecret,
		"email":        mockoidc.DefaultUser().Email,
	})
	fmt.Println(string(line))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = m.Shutdown()
}
