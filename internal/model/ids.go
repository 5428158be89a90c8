package model

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// ID prefixes, as in Hookdeck.
const (
	PrefixSource      = "src_"
	PrefixDestination = "des_"
	PrefixConnection  = "web_"
	PrefixRequest     = "req_"
	PrefixEvent       = "evt_"
	PrefixAttempt     = "atm_"
	PrefixPayload     = "edt_"
	PrefixTeam        = "tm_"
	PrefixIgnored     = "ign_"
	PrefixTransform   = "trs_"
	PrefixExecution   = "exc_"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var idState struct {
	sync.Mutex
	lastMS uint64
	seq    uint64
}

// NewID returns prefix followed by 18 base62 characters. IDs sort (in byte
// order) by creation time: the first 8 characters encode the millisecond,
// the next ones a per-millisecond sequence seeded randomly, so ids made by
// one process are strictly increasing and ids from several processes are
// ordered to the millisecond. Stores order and paginate by id.
func NewID(prefix string) string {
	now := uint64(time.Now().UnixMilli())
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	idState.Lock()
	if now <= idState.lastMS {
		now = idState.lastMS
		idState.seq++
	} else {
		idState.lastMS = now
		// A random start well below the 10-digit maximum leaves room to count up.
		idState.seq = binary.BigEndian.Uint64(rnd[:]) >> 8
	}
	seq := idState.seq
	idState.Unlock()

	buf := make([]byte, len(prefix)+18)
	copy(buf, prefix)
	encode(buf[len(prefix):len(prefix)+8], now)
	encode(buf[len(prefix)+8:], seq)
	return string(buf)
}

// encode writes v in base62, most significant digit first, filling dst.
func encode(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = base62[v%62]
		v /= 62
	}
}
