package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-gw/sluice/internal/clisession"
	"github.com/sluice-gw/sluice/internal/server"
)

// clientConfig is what `sluice login` saves for the client commands.
type clientConfig struct {
	APIURL string `json:"api_url"`
	APIKey string `json:"api_key"`
}

// defaultAPIURL is the API listener of a local `sluice serve`.
const defaultAPIURL = "http://" + server.DefaultAPIAddr

// clientConfigPath is os.UserConfigDir()/sluice/config.json.
func clientConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config directory: %w", err)
	}
	return filepath.Join(dir, "sluice", "config.json"), nil
}

// loadClientConfig reads the saved config; a missing file is an empty one.
func loadClientConfig() (clientConfig, string, error) {
	var c clientConfig
	path, err := clientConfigPath()
	if err != nil {
		return c, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, path, nil
	}
	if err != nil {
		return c, path, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, path, fmt.Errorf("read %s: %w", path, err)
	}
	return c, path, nil
}

// saveClientConfig writes the config with mode 0600 (it holds the key).
func saveClientConfig(c clientConfig) (string, error) {
	path, err := clientConfigPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return path, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return path, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return path, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return path, fmt.Errorf("save %s: %w", path, err)
	}
	return path, nil
}

// clientFlags are the server address and key of the client commands, in
// order of precedence: flags, SLUICE_API_URL / SLUICE_API_KEY, the config
// saved by `sluice login`, then the local default URL.
type clientFlags struct {
	apiURL string
	apiKey string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.apiURL, "api-url", "", "Sluice API URL (default: $SLUICE_API_URL, the saved login, or "+defaultAPIURL+")")
	cmd.Flags().StringVar(&f.apiKey, "api-key", "", "API key (default: $SLUICE_API_KEY or the saved login)")
}

// resolve fills the URL and key from the environment and the saved config.
func (f *clientFlags) resolve() (clientConfig, error) {
	c := clientConfig{APIURL: f.apiURL, APIKey: f.apiKey}
	if c.APIURL == "" {
		c.APIURL = os.Getenv("SLUICE_API_URL")
	}
	if c.APIKey == "" {
		c.APIKey = os.Getenv("SLUICE_API_KEY")
	}
	if c.APIURL == "" || c.APIKey == "" {
		saved, _, err := loadClientConfig()
		if err != nil {
			return c, err
		}
		if c.APIURL == "" {
			c.APIURL = saved.APIURL
		}
		if c.APIKey == "" {
			c.APIKey = saved.APIKey
		}
	}
	if c.APIURL == "" {
		c.APIURL = defaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	return c, nil
}

func newLoginCommand() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Save the Sluice API URL and key for `sluice listen`",
		Long: `Check the API URL and key against the server and save them (mode 0600) in
the user's config directory, e.g. ~/.config/sluice/config.json. Without
--api-key (or SLUICE_API_KEY) the key is read from standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), f)
		},
	}
	f.register(cmd)
	return cmd
}

func runLogin(ctx context.Context, in io.Reader, out io.Writer, f clientFlags) error {
	c, err := f.resolve()
	if err != nil {
		return err
	}
	if f.apiKey == "" && os.Getenv("SLUICE_API_KEY") == "" {
		fmt.Fprint(out, "API key (printed by `sluice serve`): ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read the API key: %w", err)
		}
		c.APIKey = strings.TrimSpace(line)
	}
	if c.APIKey == "" {
		return errors.New("no API key given")
	}
	team, err := clisession.Whoami(ctx, c.APIURL, c.APIKey, nil)
	if err != nil {
		return fmt.Errorf("check the key against %s: %w", c.APIURL, err)
	}
	path, err := saveClientConfig(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged in to %s (project %s). Saved in %s.\n", c.APIURL, team, path)
	return nil
}
