// ContentCache: the bounded LRU cache of rect contents behind CACHE_REF ops
// (docs/protocol.md, "Content cache"). The viewer's decoder keeps one; the
// host keeps an exact mirror of it per viewer, so it knows which contents the
// viewer holds without asking.
//
// Both sides apply the same rule, op by op in stream order:
//   - a PALETTE, PALETTE_DIFF, TRUECOLOR or PREDICTED op covering at least kCacheMinArea pixels inserts
//     the rect's pixels (after the op is drawn) as a new entry;
//   - a CACHE_REF op makes its entry the most recently used;
//   - an entry costs w*h*4 bytes; an insert first evicts least recently used
//     entries until it fits the budget (an entry larger than the whole budget
//     is not inserted and takes no id);
//   - ids are given in insertion order from 0 (u32, wrapping), so both sides
//     name an entry the same;
//   - the cache empties on every keyframe (and, on the viewer, after any
//     decode error), except the first keyframe after a resume (below).
// Resuming after a reconnect (docs/protocol.md, "Resuming the cache"): the
// host parks the mirror of a connection that ended; when the same viewer
// comes back it says how many inserts its cache has seen (its next id), and
// ResumeFor() keeps the entries both sides are sure to hold. The host sends
// their ids (CACHE_KEEP) and the viewer's Keep() keeps exactly those.
// Pixels are stored as 4 bytes per pixel in the owner's order (the host's
// BGRA with alpha forced to 0xFF; a decoder's framebuffer order), rows packed.
//
// The host also indexes entries by a hash of their content; a hash match is
// only a candidate: FindVerified() compares the pixels before answering, so a
// collision can never make the viewer draw the wrong content.
//
// The host's mirrors keep their pixels in SharedCachePixels: viewers of one
// screen insert the same contents, so a block of pixels is stored once for
// every mirror that holds it (found by hash, then compared), not once a viewer.
// Each mirror still counts the full w*h*4 against its budget, as its viewer does.
//
// Thread: not thread-safe; one owner (an encoder or a decoder) uses it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"
#include "cache_slab.h"
#include "wire_format.h"

namespace tilecast {

// Smallest op area (pixels) that enters the cache: a reference costs a 13-byte
// op, and tiny entries would only churn the LRU.
constexpr uint32_t kCacheMinArea = 1024;
// Largest budget either side may use (the host's HELLO field allows 2^15 MiB; this bounds memory).
constexpr uint64_t kCacheMaxBudget = 1024ull << 20;

// Hash of a rect's colours (the 4th byte of each pixel is ignored).
uint64_t HashRect(const FrameView& frame, const Rect& r);

// One entry's pixels (w*h*4 bytes, opaque), in CacheSlab's memory. Immutable once made; on the
// host shared by the mirrors that hold the same content.
struct CachePixels {
  CacheSlab::Block bytes;
  uint64_t hash = 0;
  uint32_t w = 0, h = 0;
};

// The process's store of the host mirrors' pixels. Thread-safe: viewers' encodes run at once.
class SharedCachePixels {
 public:
  // The pixels of `r` of `frame` (hash = HashRect): a block some mirror holds already if one has
  // equal pixels (compared), else a new one. The block is freed when the last mirror lets it go.
  std::shared_ptr<CachePixels> Get(const FrameView& frame, const Rect& r, uint64_t hash);

  struct Stats {
    size_t blocks = 0;        // blocks held by some mirror
    uint64_t bytes = 0;       // their pixels
    uint64_t reused = 0;      // Get() answers with a block that was already held
    size_t indexed = 0;       // index entries (one a block held; a freed block's goes with it)
  };
  Stats stats() const;
  static SharedCachePixels& Shared();

 private:
  struct Indexed {
    std::weak_ptr<CachePixels> block;
    const CachePixels* raw;  // to find it again once it expired
  };
  void Release(CachePixels* p);
  mutable std::mutex mu_;
  std::unordered_multimap<uint64_t, Indexed> by_hash_;
  Stats stats_;
};

class ContentCache {
 public:
  struct Entry {
    uint32_t id = 0, w = 0, h = 0;
    uint64_t hash = 0;
    std::shared_ptr<CachePixels> pixels;  // w*h*4 bytes
    const uint8_t* data() const { return pixels->bytes.data(); }
    uint64_t bytes() const { return static_cast<uint64_t>(w) * h * 4; }
  };

  // budget_bytes 0 = disabled (nothing is inserted; every reference is missing).
  explicit ContentCache(uint64_t budget_bytes = 0, bool index_by_hash = false);

  // Empties the cache and restarts ids at 0; the budget stays. (The freed pixels' memory stays
  // in CacheSlab for the next inserts, up to its kMaxSpareBytes.)
  void Clear();
  // New budget; empties the cache (connection start, or the viewer left).
  void SetBudget(uint64_t budget_bytes);
  uint64_t budget() const { return budget_; }
  uint64_t used_bytes() const { return used_; }
  // The memory this cache accounts for: a decoder's used bytes; a host mirror's share of
  // the blocks it holds with other mirrors (each block's bytes over the mirrors holding it at that
  // moment: counted at the same moment, the shares of all mirrors add up to what SharedCachePixels
  // holds). O(entries).
  uint64_t HeldBytes() const;
  size_t size() const { return by_id_.size(); }
  uint32_t next_id() const { return next_id_; }

  static bool Eligible(uint32_t w, uint32_t h) { return static_cast<uint64_t>(w) * h >= kCacheMinArea; }
  // The ops whose content enters the cache (if Eligible): those that carry pixels in the stream.
  static bool Inserts(OpCode op) {
    return op == OpCode::kPalette || op == OpCode::kPaletteDiff || op == OpCode::kTruecolor || op == OpCode::kPredicted;
  }

  // Inserts a copy of `r` of `frame` (as opaque pixels: the 4th byte becomes
  // 0xFF), evicting as the rule says. `hash` is kept for FindVerified (the host
  // passes HashRect; a decoder, which never looks up by content, passes 0).
  // Returns the new entry's id, or false if it does not fit the budget at all.
  bool Insert(const FrameView& frame, const Rect& r, uint64_t hash, uint32_t* id = nullptr);

  // Host: the id of an entry whose pixels equal `r` of `frame` (compared, not
  // just hashed), made most recently used; false if none.
  bool FindVerified(const FrameView& frame, const Rect& r, uint64_t hash, uint32_t* id);

  // Decoder: the entry with this id, made most recently used; nullptr if absent.
  const Entry* Use(uint32_t id);

  // Host, resuming a parked mirror for a viewer whose cache has seen
  // `viewer_next_id` inserts: keeps the entries with smaller ids. The viewer
  // holds every one of them: it applied a prefix of the updates this mirror
  // applied, and an entry still held here was held at every earlier point
  // (evicted entries never return). Entries with larger ids (in updates the
  // viewer never applied) go, then the lowest ids until the rest fits
  // `budget`. The kept entries are ordered by id (the lowest is the least
  // recently used); ids go on from next_id(). Appends the kept ids to
  // `ranges` as ascending (first, count) pairs. Returns false, leaving the
  // cache empty, when it cannot resume: ids wrapped since the last Clear(),
  // or the viewer claims more inserts than this mirror made.
  bool ResumeFor(uint32_t viewer_next_id, uint64_t budget, std::vector<uint32_t>* ranges);

  // Viewer, applying the host's CACHE_KEEP: the budget becomes `budget`, the
  // cache keeps exactly the entries named by `ranges` (`range_count` ascending
  // (first, count) pairs), ordered by id as ResumeFor orders them, and the
  // next insert gets `next_id`. An error (the cache is then empty) if a range
  // is empty, overlaps or does not ascend, reaches next_id, names an entry
  // not held, or the kept entries exceed the budget.
  Status Keep(uint64_t budget, uint32_t next_id, const uint32_t* ranges, size_t range_count);

 private:
  using List = std::list<Entry>;  // front = most recently used
  void EvictLeastRecent();
  // Rebuilds the LRU list and indexes from `kept` (ascending ids): the highest id most recent.
  void Rebuild(std::vector<Entry> kept);

  uint64_t budget_;
  bool index_by_hash_;
  uint64_t used_ = 0;
  uint32_t next_id_ = 0;
  bool wrapped_ = false;  // next_id_ came round past 2^32 since the last Clear(): ids no longer order inserts
  List lru_;
  std::unordered_map<uint32_t, List::iterator> by_id_;
  std::unordered_multimap<uint64_t, List::iterator> by_hash_;
};

}  // namespace tilecast
