package clisession

import "slices"

// ListeningConnections returns, sorted and without repeats, the ids of the
// connections that live sessions of this hub listen for. Several processes
// sharing one database publish it, so that only a process holding a
// session claims the events of its connections.
func (h *Hub) ListeningConnections() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, s := range h.sessions {
		if s.live() {
			ids = append(ids, s.connIDs...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
