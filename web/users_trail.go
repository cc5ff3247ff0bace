package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"settle/web/users"
	"settle/workflow"
)

// usersSnapshot is the users file as the trail keeps it: each user's record with the
// password's bcrypt hash replaced by its sha256 (enough to tell it changed).
func usersSnapshot(f *users.File) *users.File {
	out := &users.File{Users: make([]users.User, 0, len(f.Users))}
	for _, u := range f.Users {
		h := sha256.Sum256([]byte(u.Hash))
		u.Hash = hex.EncodeToString(h[:])
		u.Counters, u.Outlets = slices.Clone(u.Counters), slices.Clone(u.Outlets)
		out.Users = append(out.Users, u)
	}
	return out
}

// recordUsers records a user_change event for every user added, changed or removed since the
// snapshot the workflow database last recorded (none: every user is added), then keeps the
// new snapshot: changes made while the server was down reach the trail on its next start,
// those made while it runs when it reads the file again.
func (s *Server) recordUsers(f *users.File) {
	if f == nil {
		return
	}
	ctx := context.Background()
	cur := usersSnapshot(f)
	b, err := json.Marshal(cur)
	if err != nil {
		s.log.Error("record user changes", "err", err)
		return
	}
	old, ok, err := s.wf.UsersSnapshot(ctx)
	if err != nil {
		s.log.Error("record user changes", "err", err)
		return
	}
	if ok && old == string(b) {
		return
	}
	prev := &users.File{}
	if ok {
		if err := json.Unmarshal([]byte(old), prev); err != nil {
			s.log.Warn("users snapshot unreadable: every user recorded as added", "err", err)
			prev = &users.File{}
		}
	}
	var evs []workflow.Event
	now := s.now().UTC()
	diffUsers(prev, cur, func(name, what string) {
		evs = append(evs, workflow.Event{Time: now, User: workflow.SystemUser, Role: "system", Action: workflow.ActUserChange,
			Comment: name + " " + what})
	})
	if err := s.wf.RecordUsers(ctx, string(b), evs); err != nil {
		s.log.Error("record user changes", "err", err)
	}
}
