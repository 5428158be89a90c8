package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Retry strategies.
const (
	StrategyLinear      = "linear"
	StrategyExponential = "exponential"
)

// Retry defaults where the rule leaves a field null, and Hookdeck's cap.
const (
	DefaultRetryCount    = 5
	DefaultRetryInterval = time.Minute
	MaxRetryCount        = 50
	// MaxRetryDelay caps a single exponential step (one week).
	MaxRetryDelay = 7 * 24 * time.Hour
)

// Retry decides whether and when a failed attempt is retried
// automatically.
type Retry struct {
	Strategy string
	Count    int           // automatic retries after the first attempt
	Interval time.Duration // linear: every wait; exponential: the first
	// Statuses restricts retries to matching response statuses; nil
	// retries every failure. Failures without a response (timeouts,
	// refused connections) are always retried.
	Statuses *StatusSet
}

// NextRetry returns when to retry an event after its attempt number
// attemptNumber failed with the given response status (nil when there was
// no response), and false when no automatic retry is due.
func (r *Retry) NextRetry(attemptNumber int, status *int, failedAt time.Time) (time.Time, bool) {
	if r == nil || attemptNumber > r.Count {
		return time.Time{}, false
	}
	if status != nil && r.Statuses != nil && !r.Statuses.Match(*status) {
		return time.Time{}, false
	}
	return failedAt.Add(r.wait(attemptNumber)), true
}

// wait is the pause before retry number n (1-based).
func (r *Retry) wait(n int) time.Duration {
	if r.Strategy != StrategyExponential {
		return r.Interval
	}
	d := r.Interval
	for i := 1; i < n; i++ {
		d *= 2
		if d >= MaxRetryDelay {
			return MaxRetryDelay
		}
	}
	return d
}

func parseRetry(item json.RawMessage) (*Retry, *ValidationError) {
	var r struct {
		Type     string            `json:"type"`
		Strategy *string           `json:"strategy"`
		Interval *int64            `json:"interval"`
		Count    *int              `json:"count"`
		Codes    []json.RawMessage `json:"response_status_codes"`
	}
	if err := decodeStrict(item, &r); err != nil {
		return nil, err
	}
	out := &Retry{Strategy: StrategyLinear, Count: DefaultRetryCount, Interval: DefaultRetryInterval}
	if r.Strategy == nil {
		return nil, &ValidationError{Field: "strategy", Message: "is required (linear or exponential)"}
	}
	switch *r.Strategy {
	case StrategyLinear, StrategyExponential:
		out.Strategy = *r.Strategy
	default:
		return nil, &ValidationError{Field: "strategy", Message: fmt.Sprintf("must be linear or exponential, not %q", *r.Strategy)}
	}
	if r.Count != nil {
		if *r.Count < 0 || *r.Count > MaxRetryCount {
			return nil, &ValidationError{Field: "count", Message: fmt.Sprintf("must be between 0 and %d", MaxRetryCount)}
		}
		out.Count = *r.Count
	}
	if r.Interval != nil {
		if *r.Interval < 1 {
			return nil, &ValidationError{Field: "interval", Message: "must be a positive number of milliseconds"}
		}
		out.Interval = time.Duration(*r.Interval) * time.Millisecond
	}
	if r.Codes != nil {
		if len(r.Codes) < 1 || len(r.Codes) > 10 {
			return nil, &ValidationError{Field: "response_status_codes", Message: "must hold 1 to 10 items"}
		}
		set, err := parseStatusSet(r.Codes)
		if err != nil {
			return nil, &ValidationError{Field: "response_status_codes", Message: err.Error()}
		}
		out.Statuses = set
	}
	return out, nil
}

// StatusSet matches response statuses against Hookdeck's expressions:
// ranges ("500-599"), comparisons (">400", "<=499", "=404"), exact codes
// (404 or "404") and exclusions ("!401"). A status matches when it is not
// excluded and matches an inclusion (or there are only exclusions).
type StatusSet struct {
	include []statusRange
	exclude []statusRange
}

type statusRange struct{ lo, hi int }

// Match reports whether the status is selected.
func (s *StatusSet) Match(status int) bool {
	for _, r := range s.exclude {
		if status >= r.lo && status <= r.hi {
			return false
		}
	}
	if len(s.include) == 0 {
		return true
	}
	for _, r := range s.include {
		if status >= r.lo && status <= r.hi {
			return true
		}
	}
	return false
}

var statusExpr = regexp.MustCompile(`^(?:([2-5]\d{2})-([2-5]\d{2})|([><=]{1,2})([2-5]\d{2})|(!?)([2-5]\d{2}))$`)

func parseStatusSet(items []json.RawMessage) (*StatusSet, error) {
	set := &StatusSet{}
	for i, raw := range items {
		var expr string
		var n int
		if err := json.Unmarshal(raw, &n); err == nil {
			expr = strconv.Itoa(n)
		} else if err := json.Unmarshal(raw, &expr); err != nil {
			return nil, fmt.Errorf("item %d must be a status code or expression string", i)
		}
		m := statusExpr.FindStringSubmatch(expr)
		if m == nil {
			return nil, fmt.Errorf("item %d %q is not a status expression (e.g. \"500-599\", \">400\", \"404\", \"!401\")", i, expr)
		}
		atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
		switch {
		case m[1] != "":
			lo, hi := atoi(m[1]), atoi(m[2])
			if lo > hi {
				return nil, fmt.Errorf("item %d %q is an empty range", i, expr)
			}
			set.include = append(set.include, statusRange{lo, hi})
		case m[3] != "":
			v := atoi(m[4])
			var r statusRange
			switch m[3] {
			case ">":
				r = statusRange{v + 1, 599}
			case ">=", "=>":
				r = statusRange{v, 599}
			case "<":
				r = statusRange{200, v - 1}
			case "<=", "=<":
				r = statusRange{200, v}
			case "=", "==":
				r = statusRange{v, v}
			default:
				return nil, fmt.Errorf("item %d %q has an unknown comparison %q", i, expr, m[3])
			}
			set.include = append(set.include, r)
		case m[5] == "!":
			v := atoi(m[6])
			set.exclude = append(set.exclude, statusRange{v, v})
		default:
			v := atoi(m[6])
			set.include = append(set.include, statusRange{v, v})
		}
	}
	return set, nil
}
