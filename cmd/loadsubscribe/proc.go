package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of /proc/PID/stat times: 100 on
// every Linux architecture Go supports.
const clockTicksPerSecond = 100

// cpuTime returns the user+system CPU time pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicksPerSecond, nil
}

// cpuPressure returns the total time (PSI "some") in which runnable tasks
// waited for a CPU, machine-wide: how much the run was slowed by others.
func cpuPressure() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "some ") {
			continue
		}
		for _, kv := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(kv, "total="); ok {
				us, err := strconv.ParseInt(v, 10, 64)
				return time.Duration(us) * time.Microsecond, err == nil
			}
		}
	}
	return 0, false
}

// meter reads the server's CPU time and the machine's CPU pressure at the
// start and end of the measured phase.
type meter struct {
	pid int
	// client, when set, is this process's pid, metered too when the
	// server is another process.
	client int

	mu                 sync.Mutex
	t0, t1             time.Time
	cpu0, cpu1         time.Duration
	ccpu0, ccpu1       time.Duration
	psi0, psi1         time.Duration
	cpuOK, psiOK, done bool
}

// mark is LoadOptions.OnMeasure.
func (m *meter) mark(end bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	cpu, cerr := cpuTime(m.pid)
	psi, pok := cpuPressure()
	var ccpu time.Duration
	if m.client != 0 {
		ccpu, _ = cpuTime(m.client)
	}
	if !end {
		m.t0, m.cpu0, m.ccpu0, m.psi0, m.cpuOK, m.psiOK = now, cpu, ccpu, psi, cerr == nil, pok
		return
	}
	m.t1, m.cpu1, m.ccpu1, m.psi1, m.done = now, cpu, ccpu, psi, true
	m.cpuOK = m.cpuOK && cerr == nil
	m.psiOK = m.psiOK && pok
}

// report describes what the meter saw, for requests measured requests.
func (m *meter) report(requests int, who string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.done || m.t0.IsZero() {
		return nil
	}
	wall := m.t1.Sub(m.t0)
	var out []string
	if m.cpuOK && requests > 0 && wall > 0 {
		cpu := m.cpu1 - m.cpu0
		per := cpu / time.Duration(requests)
		out = append(out, fmt.Sprintf("CPU of %s: %.2fs in %.2fs (%.2f cores), %s per request",
			who, cpu.Seconds(), wall.Seconds(), cpu.Seconds()/wall.Seconds(), ms(per)))
		if m.client != 0 {
			cc := m.ccpu1 - m.ccpu0
			out = append(out, fmt.Sprintf("CPU of the load clients (this process): %.2fs (%.2f cores), %s per request",
				cc.Seconds(), cc.Seconds()/wall.Seconds(), ms(cc/time.Duration(requests))))
		}
	}
	if m.psiOK && wall > 0 {
		out = append(out, fmt.Sprintf("machine CPU pressure (PSI some) during the run: %.0f%%",
			100*(m.psi1-m.psi0).Seconds()/wall.Seconds()))
	}
	return out
}
