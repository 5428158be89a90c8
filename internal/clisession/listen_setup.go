package clisession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// setup resolves the sources and connections, opens the session and
// prints the header.
func (l *listener) setup(ctx context.Context) error {
	if err := l.resolveSources(ctx); err != nil {
		return err
	}
	if err := l.openSession(ctx); err != nil {
		return err
	}
	l.printHeader()
	return nil
}

// openSession makes sure every source has its CLI connections (they may
// have been deleted since) and opens a session for them.
func (l *listener) openSession(ctx context.Context) error {
	var conns []apiConnection
	var ids []string
	for _, src := range l.sources {
		cs, err := l.ensureConnections(ctx, src)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		for _, c := range cs {
			c.Source = src
			conns = append(conns, c)
			ids = append(ids, c.ID)
		}
	}
	id, err := l.api.createSession(ctx, ids, &l.cfg.Filters)
	if err != nil {
		return fmt.Errorf("open a listen session: %w", err)
	}
	l.conns, l.session = conns, id
	return nil
}

func (l *listener) resolveSources(ctx context.Context) error {
	seen := map[string]bool{}
	for _, name := range l.cfg.Sources {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "*":
			all, err := listAll[apiSource](ctx, l.api, "/sources", url.Values{})
			if err != nil {
				return fmt.Errorf("list sources: %w", err)
			}
			if len(all) == 0 {
				return errors.New("there are no sources yet: name one to create it")
			}
			for _, s := range all {
				if !seen[s.ID] {
					seen[s.ID] = true
					l.sources = append(l.sources, s)
				}
			}
		default:
			s, created, err := l.api.findOrCreateSource(ctx, name)
			if err != nil {
				return fmt.Errorf("source %s: %w", name, err)
			}
			if created {
				l.out.printf("Created source %s.\n", s.Name)
			}
			if !seen[s.ID] {
				seen[s.ID] = true
				l.sources = append(l.sources, s)
			}
		}
	}
	if len(l.sources) == 0 {
		return errors.New("name at least one source (or * for all)")
	}
	return nil
}

// ensureConnections returns the source's CLI connections, creating one (or
// setting the path of the existing ones when --path is given).
func (l *listener) ensureConnections(ctx context.Context, src apiSource) ([]apiConnection, error) {
	conns, err := l.api.cliConnections(ctx, src.ID)
	if err != nil {
		return nil, err
	}
	if len(conns) == 0 {
		path := l.cfg.Path
		if path == "" {
			path = "/"
		}
		c, err := l.api.createCLIConnection(ctx, src, path)
		if err != nil {
			return nil, err
		}
		l.out.printf("Created connection %s (CLI destination, path %s).\n", c.Name, path)
		return []apiConnection{c}, nil
	}
	if l.cfg.Path != "" {
		for i := range conns {
			d := conns[i].Destination
			if d.Config.Path != l.cfg.Path {
				if err := l.api.setDestinationPath(ctx, d, l.cfg.Path); err != nil {
					return nil, fmt.Errorf("set the path of destination %s: %w", d.Name, err)
				}
			}
		}
	}
	return conns, nil
}

func (l *listener) printHeader() {
	p := l.out.printf
	p("\nSluice listen: forwarding to %s\n\n", l.target)
	p("Send webhooks to:\n")
	for _, s := range l.sources {
		p("  %-20s %s\n", s.Name, s.URL)
	}
	p("\nConnections:\n")
	for _, c := range l.conns {
		path := "/"
		if c.Destination != nil && c.Destination.Config.Path != "" {
			path = c.Destination.Config.Path
		}
		note := ""
		if c.PausedAt != nil {
			note = "  (paused: events are held until it is unpaused)"
		}
		if c.DisabledAt != nil {
			note = "  (disabled: no events are created)"
		}
		p("  %-20s %s → %s%s\n", c.Name, c.Source.Name, l.localURL(path), note)
	}
	if !l.cfg.Filters.empty() {
		b, _ := json.Marshal(l.cfg.Filters)
		p("\nOnly events matching %s are forwarded.\n", b)
	}
	p("\n")
}
