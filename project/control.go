package project

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/nookenv/nook/internal/safefile"
)

// A supervisor of nook up listens on a unix socket in the project's run
// state; `nook stop ROLE...` asks it there to stop some roles. Each
// connection carries one request and its reply, each a JSON line.

// controlRequest asks the supervisor to stop roles for good.
type controlRequest struct {
	Stop []string `json:"stop"`
}

// controlReply answers once the roles have stopped.
type controlReply struct {
	Error string `json:"error,omitempty"`
}

// controlCall is a request as the supervisor's loop receives it.
type controlCall struct {
	req   controlRequest
	reply chan<- controlReply
}

// listenControl serves the socket at path until the listener is closed,
// handing each request to calls; once done is closed, a request gets no
// reply (the client reads that nook up has ended) and is not left waiting.
func listenControl(path string, calls chan<- controlCall, done <-chan struct{}) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing the old control socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on the control socket %s: %w", path, err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveControl(c, calls, done)
		}
	}()
	return l, nil
}

// serveControl hands one request to the supervisor's loop and writes its
// reply.
func serveControl(c net.Conn, calls chan<- controlCall, done <-chan struct{}) {
	defer c.Close()
	if uc, ok := c.(*net.UnixConn); !ok || !safefile.SameUser(uc) {
		return // only the user's own nook stop is served
	}
	var req controlRequest
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
		return
	}
	reply := make(chan controlReply, 1)
	select {
	case calls <- controlCall{req: req, reply: reply}:
	case <-done:
		return
	}
	json.NewEncoder(c).Encode(<-reply)
}

// ControlStop asks the supervisor of nook up listening at path (its
// runstate.Supervisor's Control) to stop roles and waits for its answer.
func ControlStop(path string, roles []string) error {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connecting to nook up at %s: %w", path, err)
	}
	defer c.Close()
	// Nothing goes to a socket that someone else serves.
	if err := safefile.CheckPeer(c.(*net.UnixConn), "the control socket of nook up", path); err != nil {
		return err
	}
	if err := json.NewEncoder(c).Encode(controlRequest{Stop: roles}); err != nil {
		return fmt.Errorf("asking nook up at %s to stop %v: %w", path, roles, err)
	}
	var reply controlReply
	err = json.NewDecoder(c).Decode(&reply)
	if errors.Is(err, io.EOF) {
		return nil // nook up ended meanwhile, and its roles with it
	}
	if err != nil {
		return fmt.Errorf("waiting for nook up at %s to stop %v: %w", path, roles, err)
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	return nil
}
