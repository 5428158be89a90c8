package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the bench ran.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemBytes int64  `json:"mem_bytes"`
	// LoadAvg is the 1-minute load average before and after the run.
	LoadBefore float64 `json:"load_avg_before"`
	LoadAfter  float64 `json:"load_avg_after"`
	GoVersion  string  `json:"go_version"`
}

func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAvg()}
	m.CPUModel = procField("/proc/cpuinfo", "model name", ":")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal", ":"), " kB"), 10, 64); err == nil {
		m.MemBytes = kb << 10
	}
	return m
}

// loadAvg is the 1-minute load average (0 when unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// procField returns the value of the first "name<sep> value" line.
func procField(path, name, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// rss returns this process's resident set size and its peak (VmRSS,
// VmHWM), in bytes; zeros where /proc is missing.
func rss() (cur, peak int64) {
	kb := func(name string) int64 {
		v, _ := strconv.ParseInt(strings.TrimSuffix(procField("/proc/self/status", name, ":"), " kB"), 10, 64)
		return v << 10
	}
	return kb("VmRSS"), kb("VmHWM")
}

// resetPeakRSS restarts the VmHWM peak from the current RSS (Linux ≥ 4.0),
// so that a phase's peak excludes the phases before it. It reports
// whether it worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// cpuPer is CPU time per item in microseconds (0 without items).
func cpuPer(d time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}
