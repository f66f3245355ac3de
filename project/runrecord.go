package project

import (
	"fmt"
	"time"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/runstate"
)

// OpenRunState opens the project's run-state directory (SPEC §1), once it
// is found safe (SPEC §8a).
func OpenRunState(e *env.Env) (*runstate.Project, error) {
	return runstate.Open(env.RunDir(), e.ProjectID)
}

// runState is the project's run state (OpenRunState), opened on first
// use: the runs of one command (nook run's role and its dependencies)
// share it.
func (p *Project) runState() (*runstate.Project, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		proj, err := OpenRunState(p.Env)
		if err != nil {
			return nil, err
		}
		p.state = proj
	}
	return p.state, nil
}

// runDir is the run-state directory, made or found safe (SPEC §8a) before
// anything in it is read.
func runDir() (string, error) {
	dir := env.RunDir()
	return dir, runstate.MakeRunDir(dir)
}

// roleRecord is a new record of role r, owned by this process.
func roleRecord(e *env.Env, r *env.Role, via string) (*runstate.Role, error) {
	me, err := runstate.Self()
	if err != nil {
		return nil, err
	}
	rec := &runstate.Role{
		Role:       r.Name,
		Project:    e.Project,
		ProjectDir: e.ProjectDir,
		Via:        via,
		Owner:      me,
		State:      runstate.Starting,
		Network:    r.Network,
		Started:    time.Now(),
	}
	for _, p := range rolePorts(r) {
		rec.Ports = append(rec.Ports, p.String())
	}
	return rec, nil
}

// recordRun records a run of role r by the command via ("run" or "watch")
// as running until done is called; a killed nook leaves a stale record
// that ps cleans. nook exec and nook shell (r without a name) are recorded
// as "exec" and "shell". grace is the stop grace period of the run.
func (p *Project) recordRun(r *env.Role, shell bool, via string, grace time.Duration) (done func(), err error) {
	proj, err := p.runState()
	if err != nil {
		return nil, err
	}
	rec, err := roleRecord(p.Env, r, via)
	if err != nil {
		return nil, err
	}
	if rec.Role == "" {
		rec.Role = "exec"
		if shell {
			rec.Role = "shell"
		}
	}
	rec.State = runstate.Running
	rec.Grace = grace
	if err := proj.WriteRole(rec); err != nil {
		return nil, fmt.Errorf("recording the run of %s: %w", r.Name, err)
	}
	return func() { proj.RemoveRole(rec) }, nil
}
