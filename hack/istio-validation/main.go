// istio-validation: istiod's validating admission webhook, served on its own for the test control
// plane (hack/controlplane/up.sh registers it as the ValidatingWebhookConfiguration
// `istio-validation`). It is the code a real istiod runs for its `rev.validation.istio.io` webhook:
// the handler of istio.io/istio/pkg/webhooks/validation/server, over the schemas istiod passes it
// (collections.PilotGatewayAPI()), so every Istio object the API server admits here is one a real
// istiod admits too, and every refusal carries istiod's message.
//
// Built by hack/istio-validation/build.sh in a throwaway module that requires istio.io/istio at
// ISTIO_VERSION (hack/controlplane/versions.env); there is no go.mod here on purpose.
//
// Around istiod's handler this program only counts: per kind, how many objects were validated and
// how many of them were rejected (GET /stats, JSON; a log line per object; the totals on exit).
//
//	istio-validation --listen 127.0.0.1:PORT --tls-cert tls.crt --tls-key tls.key
//
// Paths: POST /validate (AdmissionReview admission.k8s.io/v1 or v1beta1, istiod's handler),
// GET /ready, GET /stats, POST /stats/reset.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/version"
	"istio.io/istio/pkg/webhooks/validation/server"
)

// kindCount is what /stats reports per kind: Validated counts every object Istio's validation
// ran on (CREATE and UPDATE), Rejected those of them it refused.
type kindCount struct {
	Validated int `json:"validated"`
	Rejected  int `json:"rejected"`
}

type stats struct {
	Validated int                   `json:"validated"`
	Rejected  int                   `json:"rejected"`
	Kinds     map[string]*kindCount `json:"kinds"`
	// Rejections: the last few refusals, newest last (kind, namespace/name, istiod's message).
	Rejections []string `json:"rejections"`
	Since      string   `json:"since"`
	Istio      string   `json:"istioSchemas"`
}

const keepRejections = 50

type counter struct {
	mu sync.Mutex
	s  stats
}

func newCounter(schemas string) *counter {
	c := &counter{}
	c.reset(schemas)
	return c
}

func (c *counter) reset(schemas string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = stats{Kinds: map[string]*kindCount{}, Rejections: []string{}, Since: time.Now().UTC().Format(time.RFC3339), Istio: schemas}
}

func (c *counter) add(kind string, rejected bool, rejection string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.s.Kinds[kind]
	if k == nil {
		k = &kindCount{}
		c.s.Kinds[kind] = k
	}
	k.Validated++
	c.s.Validated++
	if rejected {
		k.Rejected++
		c.s.Rejected++
		c.s.Rejections = append(c.s.Rejections, rejection)
		if len(c.s.Rejections) > keepRejections {
			c.s.Rejections = c.s.Rejections[len(c.s.Rejections)-keepRejections:]
		}
	}
}

func (c *counter) snapshot() ([]byte, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	body, _ := json.MarshalIndent(c.s, "", "  ")
	kinds := make([]string, 0, len(c.s.Kinds))
	for k, v := range c.s.Kinds {
		kinds = append(kinds, fmt.Sprintf("%s %d/%d", k, v.Validated, v.Rejected))
	}
	sort.Strings(kinds)
	summary := fmt.Sprintf("%d objects validated, %d rejected", c.s.Validated, c.s.Rejected)
	if len(kinds) > 0 {
		summary += " (validated/rejected: " + strings.Join(kinds, ", ") + ")"
	}
	return body, summary
}

// The parts of an AdmissionReview (v1 or v1beta1: same JSON) that the counting needs.
type review struct {
	Request *struct {
		Kind      struct{ Group, Kind string } `json:"kind"`
		Name      string                       `json:"name"`
		Namespace string                       `json:"namespace"`
		Operation string                       `json:"operation"`
		DryRun    *bool                        `json:"dryRun"`
		Object    struct {
			Metadata struct {
				Name         string `json:"name"`
				GenerateName string `json:"generateName"`
			} `json:"metadata"`
		} `json:"object"`
	} `json:"request"`
	Response *struct {
		Allowed bool `json:"allowed"`
		Result  *struct {
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// istiod's messages can span lines (a multierror's "1 error occurred:\n\t* ..."); logs and /stats
// keep one line per object.
var lineBreaks = regexp.MustCompile(`\s*\n\s*`)

func oneLine(s string) string { return lineBreaks.ReplaceAllString(strings.TrimSpace(s), " ") }

// recorder keeps a copy of the response istiod's handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// counting wraps istiod's /validate handler: the request and the response are read, never changed.
func counting(next http.Handler, c *counter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in []byte
		if r.Body != nil {
			var err error
			// istiod's handler reads at most 6 MiB (kube.HTTPConfigReader); the API server sends less.
			in, err = io.ReadAll(io.LimitReader(r.Body, 8<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(in))
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		var req, resp review
		if json.Unmarshal(in, &req) != nil || req.Request == nil {
			log.Warnf("istio-validation: a request that is not an AdmissionReview (HTTP %d)", rec.status)
			return
		}
		q := req.Request
		if q.Operation != "CREATE" && q.Operation != "UPDATE" {
			return // istiod allows every other operation without validating anything
		}
		kind := q.Kind.Kind
		if q.Kind.Group != "" {
			kind += "." + q.Kind.Group
		}
		name := q.Name
		if name == "" {
			name = q.Object.Metadata.Name
		}
		if name == "" && q.Object.Metadata.GenerateName != "" {
			name = q.Object.Metadata.GenerateName + "*"
		}
		if q.Namespace != "" {
			name = q.Namespace + "/" + name
		}
		dry := ""
		if q.DryRun != nil && *q.DryRun {
			dry = " (dry run)"
		}
		allowed, message := false, fmt.Sprintf("HTTP %d: %s", rec.status, rec.body.String())
		if rec.status == http.StatusOK && json.Unmarshal(rec.body.Bytes(), &resp) == nil && resp.Response != nil {
			allowed = resp.Response.Allowed
			if resp.Response.Result != nil {
				message = resp.Response.Result.Message
			}
		}
		message = oneLine(message)
		if allowed {
			c.add(kind, false, "")
			log.Infof("istio-validation: %s %s %s%s: accepted", q.Operation, kind, name, dry)
			return
		}
		c.add(kind, true, fmt.Sprintf("%s %s: %s", kind, name, message))
		log.Infof("istio-validation: %s %s %s%s: REJECTED: %s", q.Operation, kind, name, dry, message)
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9443", "address to serve HTTPS on")
	certFile := flag.String("tls-cert", "", "serving certificate (PEM)")
	keyFile := flag.String("tls-key", "", "serving key (PEM)")
	domainSuffix := flag.String("domain-suffix", "cluster.local", "DNS domain suffix, as istiod's --domain")
	flag.Parse()
	if *certFile == "" || *keyFile == "" {
		fmt.Fprintln(os.Stderr, "istio-validation: --tls-cert and --tls-key are required")
		os.Exit(2)
	}
	if err := log.Configure(log.DefaultOptions()); err != nil {
		fmt.Fprintf(os.Stderr, "istio-validation: %v\n", err)
		os.Exit(1)
	}

	// The schemas istiod's own webhook gets (pilot/pkg/bootstrap/validation.go).
	schemas := collections.PilotGatewayAPI()
	var kinds []string
	for _, s := range schemas.All() {
		if strings.HasSuffix(s.Group(), "istio.io") {
			kinds = append(kinds, s.Kind()+"."+s.Group())
		}
	}
	sort.Strings(kinds)
	c := newCounter(strings.Join(kinds, ","))

	istiod := http.NewServeMux()
	if _, err := server.New(server.Options{Schemas: schemas, DomainSuffix: *domainSuffix, Mux: istiod}); err != nil {
		log.Fatalf("istio-validation: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/validate", counting(istiod, c))
	mux.Handle("/validate/", counting(istiod, c))
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		body, _ := c.snapshot()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	})
	mux.HandleFunc("POST /stats/reset", func(w http.ResponseWriter, _ *http.Request) {
		_, summary := c.snapshot()
		log.Infof("istio-validation: counts reset (were: %s)", summary)
		c.reset(strings.Join(kinds, ","))
		_, _ = io.WriteString(w, "ok\n")
	})

	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServeTLS(*certFile, *keyFile) }()
	log.Infof("istio-validation: istiod's validation webhook (istio.io/istio %s, commit %s) on https://%s/validate for %d Istio kinds: %s",
		version.Info.Version, version.Info.GitRevision, *listen, len(kinds), strings.Join(kinds, ", "))

	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("istio-validation: %v", err)
			os.Exit(1)
		}
	case sig := <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
		_, summary := c.snapshot()
		log.Infof("istio-validation: %s; stopping", sig)
		log.Infof("istio-validation: %s", summary)
	}
}
