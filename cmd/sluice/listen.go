package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluice-gw/sluice/internal/clisession"
)

type listenOptions struct {
	client        clientFlags
	path          string
	filterBody    string
	filterHeaders string
	filterQuery   string
	filterPath    string
}

func newListenCommand() *cobra.Command {
	var o listenOptions
	cmd := &cobra.Command{
		Use:   "listen PORT|URL SOURCE[,SOURCE…|*]",
		Short: "Forward the webhooks of sources to an app on this machine",
		Long: `Forward every webhook that reaches the named sources to a local app, and
send the app's answers back to Sluice, where they are recorded on the attempts.

The sources are created if they do not exist; each gets a connection to a CLI
destination (cli-<source>) unless it has one. "*" listens on every source.
Events that arrive while nothing listens are delivered when listen starts
again. The filters use the connection filter language, e.g.
  sluice listen 3000 stripe --filter-body '{"type":"invoice.paid"}'`,
		Example: `  sluice listen 3000 stripe
  sluice listen http://localhost:8080/hooks stripe,github --path /webhooks
  sluice listen 3000 '*'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListen(cmd.Context(), cmd.OutOrStdout(), o, args[0], args[1])
		},
	}
	o.client.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.path, "path", "", "path of the CLI destinations: events go to the app URL + this path + the request path")
	f.StringVar(&o.filterBody, "filter-body", "", "forward only events whose body matches this filter (JSON)")
	f.StringVar(&o.filterHeaders, "filter-headers", "", "forward only events whose headers match this filter (JSON)")
	f.StringVar(&o.filterQuery, "filter-query", "", "forward only events whose query matches this filter (JSON)")
	f.StringVar(&o.filterPath, "filter-path", "", "forward only events whose path matches this filter (JSON, or a bare path)")
	return cmd
}

func runListen(ctx context.Context, out io.Writer, o listenOptions, target, sources string) error {
	c, err := o.client.resolve()
	if err != nil {
		return err
	}
	filters, err := o.filters()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return clisession.Listen(ctx, clisession.ListenConfig{
		APIURL:  c.APIURL,
		APIKey:  c.APIKey,
		Target:  target,
		Sources: strings.Split(sources, ","),
		Path:    o.path,
		Filters: filters,
		Out:     out,
	})
}

// filters reads the --filter-* flags; each must be JSON, except that a
// path filter may be a bare path.
func (o listenOptions) filters() (clisession.Filters, error) {
	var f clisession.Filters
	for _, p := range []struct {
		flag, v string
		dst     *json.RawMessage
	}{
		{"--filter-body", o.filterBody, &f.Body},
		{"--filter-headers", o.filterHeaders, &f.Headers},
		{"--filter-query", o.filterQuery, &f.Query},
		{"--filter-path", o.filterPath, &f.Path},
	} {
		v := strings.TrimSpace(p.v)
		if v == "" {
			continue
		}
		if !json.Valid([]byte(v)) {
			if p.dst != &f.Path {
				return f, fmt.Errorf("%s: not valid JSON: %s", p.flag, v)
			}
			b, _ := json.Marshal(v)
			v = string(b)
		}
		*p.dst = json.RawMessage(v)
	}
	return f, nil
}
