#include "move_detector.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "../util/thread_pool.h"

namespace tilecast {
namespace {

constexpr uint64_t kFlat = 0;  // hash value reserved for one-colour lines

inline uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

// One direction of search. A "line" is a row segment of a tile column
// (vertical moves) or a column segment of a tile row (horizontal moves); `pos`
// runs along the direction of the move, `band` spans the other way.
struct Axis {
  bool vertical;

  // Hashes of lines pos in [from, to) of one band into out[pos - from]. Both
  // directions walk memory row by row (column segments accumulate per column),
  // so a whole frame hashes at close to memory speed.
  void HashLines(const FrameView& f, uint32_t band_at, uint32_t band_len, uint32_t from, uint32_t to,
                 uint64_t* out) const {
    const uint32_t count = to - from;
    if (vertical) {
      for (uint32_t p = from; p < to; ++p) {
        const uint8_t* px = f.pixel(band_at, p);
        uint32_t first;
        std::memcpy(&first, px, 4);
        const uint64_t pair0 = first | (static_cast<uint64_t>(first) << 32);
        // Four independent lanes keep the multiplier busy instead of waiting on one chain.
        uint64_t lane[4] = {0x84222325CBF29CE4ull, 0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull};
        uint64_t diff = 0;
        uint32_t i = 0;
        for (; i + 8 <= band_len; i += 8, px += 32) {
          for (int k = 0; k < 4; ++k) {
            uint64_t v;
            std::memcpy(&v, px + 8 * k, 8);
            diff |= v ^ pair0;
            lane[k] = (lane[k] ^ v) * 0x9E3779B97F4A7C15ull;
          }
        }
        for (; i < band_len; ++i, px += 4) {
          uint32_t v;
          std::memcpy(&v, px, 4);
          diff |= v ^ first;
          lane[0] = (lane[0] ^ v) * 0x9E3779B97F4A7C15ull;
        }
        const uint64_t h = Mix(Mix(Mix(Mix(0, lane[0]), lane[1]), lane[2]), lane[3]);
        out[p - from] = diff == 0 ? kFlat : (h == kFlat ? 1 : h);
      }
      return;
    }
    std::vector<uint32_t> first(count);
    std::vector<uint8_t> varied(count, 0);
    for (uint32_t k = 0; k < count; ++k) {
      std::memcpy(&first[k], f.pixel(from + k, band_at), 4);
      out[k] = 0x84222325CBF29CE4ull;
    }
    for (uint32_t i = 0; i < band_len; ++i) {
      const uint8_t* px = f.pixel(from, band_at + i);
      for (uint32_t k = 0; k < count; ++k, px += 4) {
        uint32_t v;
        std::memcpy(&v, px, 4);
        varied[k] |= v != first[k];
        out[k] = (out[k] ^ v) * 0x9E3779B97F4A7C15ull;  // columns are independent chains already
      }
    }
    for (uint32_t k = 0; k < count; ++k) {
      const uint64_t h = Mix(0, out[k]);
      out[k] = !varied[k] ? kFlat : (h == kFlat ? 1 : h);
    }
  }

  bool Equal(const FrameView& a, uint32_t pa, const FrameView& b, uint32_t pb, uint32_t band_at,
             uint32_t band_len) const {
    if (vertical) return std::memcmp(a.pixel(band_at, pa), b.pixel(band_at, pb), static_cast<size_t>(band_len) * 4) == 0;
    const uint8_t* x = a.pixel(pa, band_at);
    const uint8_t* y = b.pixel(pb, band_at);
    for (uint32_t i = 0; i < band_len; ++i, x += a.stride, y += b.stride) {
      if (std::memcmp(x, y, 4) != 0) return false;
    }
    return true;
  }

  CopyOp Copy(uint32_t band_at, uint32_t band_len, uint32_t dst_pos, uint32_t len, int shift) const {
    const uint32_t src = static_cast<uint32_t>(static_cast<int>(dst_pos) - shift);
    if (vertical) return CopyOp{Rect{band_at, dst_pos, band_len, len}, band_at, src};
    return CopyOp{Rect{dst_pos, band_at, len, band_len}, src, band_at};
  }
};

// The sent frame's lines of one band, over its whole length: shared by every
// rect of one FindMoves call that covers the same band.
struct SentLines {
  uint32_t len = 0;
  std::vector<uint64_t> hashes;
  std::vector<std::pair<uint64_t, uint32_t>> index;  // (hash, position) of distinctive lines, sorted
};
using SentCache = std::map<uint32_t, SentLines>;  // by band start

struct BandHashes {
  uint32_t at, len;
  SentLines* sent;
  bool compute_sent;            // this band fills `sent` (the first rect to need it)
  std::vector<uint64_t> frame;  // positions [p0, p1) of the new frame
  std::vector<std::pair<uint64_t, uint32_t>> changed;  // (hash, position) of distinctive changed lines, sorted
};

void SearchRect(const Axis& axis, const FrameView& sent, const FrameView& frame, const Rect& r, const MoveSearch& s,
                SentCache* cache, std::vector<CopyOp>* out) {
  const uint32_t n = axis.vertical ? frame.height : frame.width;
  const uint32_t p0 = axis.vertical ? r.y : r.x, p1 = p0 + (axis.vertical ? r.h : r.w);
  const uint32_t b0 = axis.vertical ? r.x : r.y, b1 = b0 + (axis.vertical ? r.w : r.h);
  if (p1 - p0 < s.min_run) return;

  std::vector<BandHashes> bands;
  for (uint32_t b = b0; b < b1; b += s.tile_size) {
    const uint32_t len = std::min(s.tile_size, b1 - b);
    SentLines& lines = (*cache)[b];
    const bool compute = lines.len != len;
    if (compute) lines = SentLines{len, {}, {}};
    bands.push_back(BandHashes{b, len, &lines, compute, {}, {}});
  }
  ThreadPool::Shared().ParallelFor(bands.size(), s.max_threads, [&](size_t i) {
    BandHashes& h = bands[i];
    if (h.compute_sent) {
      SentLines& l = *h.sent;
      l.hashes.resize(n);
      axis.HashLines(sent, h.at, h.len, 0, n, l.hashes.data());
      for (uint32_t p = 0; p < n; ++p) {
        if (l.hashes[p] != kFlat) l.index.emplace_back(l.hashes[p], p);
      }
      std::sort(l.index.begin(), l.index.end());
    }
    h.frame.resize(p1 - p0);
    axis.HashLines(frame, h.at, h.len, p0, p1, h.frame.data());
    // Unchanged lines say nothing about motion; flat ones match anything.
    const std::vector<uint64_t>& sent_hashes = h.sent->hashes;
    for (uint32_t p = p0; p < p1; ++p) {
      const uint64_t hv = h.frame[p - p0];
      if (hv != kFlat && hv != sent_hashes[p]) h.changed.emplace_back(hv, p);
    }
    std::sort(h.changed.begin(), h.changed.end());
  });

  // Vote: each distinctive changed line of the new frame for the shifts that
  // would bring an equal line of the sent frame there (a merge of the two sorted
  // hash lists). Repeated lines (table rules) vote a few times at most.
  std::vector<uint32_t> votes(2 * static_cast<size_t>(n) + 1, 0);  // index: shift + n
  for (const BandHashes& h : bands) {
    const auto& index = h.sent->index;
    auto it = index.begin();
    for (const auto& [hv, p] : h.changed) {
      while (it != index.end() && it->first < hv) ++it;
      auto m = it;
      for (int k = 0; k < 4 && m != index.end() && m->first == hv; ++k, ++m) {
        votes[static_cast<size_t>(static_cast<int>(p) - static_cast<int>(m->second) + static_cast<int>(n))]++;
      }
    }
  }
  std::vector<std::pair<uint32_t, int>> ranked;
  for (size_t i = 0; i < votes.size(); ++i) {
    if (votes[i] >= s.min_run / 2 && i != n) ranked.emplace_back(votes[i], static_cast<int>(i) - static_cast<int>(n));
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : std::abs(a.second) < std::abs(b.second);
  });
  if (ranked.size() > s.max_candidates) ranked.resize(s.max_candidates);
  if (ranked.empty()) return;

  // Verify: runs of lines equal (byte for byte) to the shifted sent lines.
  for (const BandHashes& h : bands) {
    std::vector<uint8_t> claimed(p1 - p0, 0);
    for (const auto& [count, shift] : ranked) {
      uint32_t run_start = 0, run_len = 0, distinctive = 0;
      bool useful = false;
      auto flush = [&] {
        if (run_len >= s.min_run && distinctive >= 2 && useful) {
          out->push_back(axis.Copy(h.at, h.len, run_start, run_len, shift));
          std::fill(claimed.begin() + (run_start - p0), claimed.begin() + (run_start - p0 + run_len), 1);
        }
        run_len = distinctive = 0;
        useful = false;
      };
      for (uint32_t p = p0; p < p1; ++p) {
        const int q = static_cast<int>(p) - shift;
        const bool match = q >= 0 && q < static_cast<int>(n) && !claimed[p - p0] &&
                           h.frame[p - p0] == h.sent->hashes[q] && axis.Equal(frame, p, sent, q, h.at, h.len);
        if (!match) {
          flush();
          continue;
        }
        if (run_len == 0) run_start = p;
        run_len++;
        if (h.frame[p - p0] != kFlat) distinctive++;
        if (h.frame[p - p0] != h.sent->hashes[p]) useful = true;
      }
      flush();
    }
  }
}

bool Overlaps(const Rect& a, const Rect& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// Joins copies of neighbouring bands that share the shift and the extent.
std::vector<CopyOp> JoinNeighbours(std::vector<CopyOp> copies) {
  std::sort(copies.begin(), copies.end(), [](const CopyOp& a, const CopyOp& b) {
    if (a.dst.y != b.dst.y) return a.dst.y < b.dst.y;
    return a.dst.x < b.dst.x;
  });
  std::vector<CopyOp> out;
  for (const CopyOp& c : copies) {
    bool joined = false;
    for (CopyOp& o : out) {
      const bool same_shift = o.dst.x - o.src_x == c.dst.x - c.src_x && o.dst.y - o.src_y == c.dst.y - c.src_y;
      if (!same_shift) continue;
      if (o.dst.y == c.dst.y && o.dst.h == c.dst.h && o.dst.x + o.dst.w == c.dst.x) {
        o.dst.w += c.dst.w;
        joined = true;
      } else if (o.dst.x == c.dst.x && o.dst.w == c.dst.w && o.dst.y + o.dst.h == c.dst.y) {
        o.dst.h += c.dst.h;
        joined = true;
      }
      if (joined) break;
    }
    if (!joined) out.push_back(c);
  }
  return out;
}

// Window drags move content both ways at once, by any amount, so fixed tile
// columns never line up. Anchors (16-pixel row windows, every 32 px on every
// 8th row of the searched rects, one colour skipped, repeated ones dropped) are
// looked up in a rolling hash of every 16-pixel window of the sent frame; hits
// vote for the shift (dx, dy). The winner is checked tile by tile: a tile of
// the new frame equal to the sent frame at that shift becomes a copy.
constexpr uint32_t kAnchor = 16;
constexpr uint64_t kRollBase = 0x100000001B3ull;

struct AnchorTable {
  struct Slot {
    uint64_t hash = 0;
    int32_t x = -1, y = -1;  // x = -2: the hash was seen twice (not an anchor)
  };
  std::vector<Slot> slots;
  uint64_t mask = 0;
  explicit AnchorTable(size_t n) {
    size_t size = 16;
    while (size < n * 2) size <<= 1;
    slots.resize(size);
    mask = size - 1;
  }
  Slot* Find(uint64_t h) {
    for (uint64_t i = (h * 0x9E3779B97F4A7C15ull) >> 20;; ++i) {
      Slot& s = slots[i & mask];
      if (s.x == -1 || s.hash == h) return &s;
    }
  }
};

uint64_t WindowHash(const uint8_t* px) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < kAnchor; ++i, px += 4) {
    uint32_t v;
    std::memcpy(&v, px, 4);
    h = h * kRollBase + v;
  }
  return h;
}

bool FindDragShift(const FrameView& sent, const FrameView& frame, const std::vector<Rect>& rects, int* dx, int* dy) {
  std::vector<std::pair<uint32_t, uint32_t>> points;
  for (const Rect& r : rects) {
    for (uint32_t y = r.y; y < r.y + r.h; y += 8) {
      for (uint32_t x = r.x; x + kAnchor <= r.x + r.w; x += 2 * kAnchor) {
        const uint8_t* p = frame.pixel(x, y);
        if (std::memcmp(p, p + 4, (kAnchor - 1) * 4) == 0) continue;  // one colour: matches anywhere
        if (std::memcmp(p, sent.pixel(x, y), kAnchor * 4) == 0) continue;  // unchanged: says nothing
        points.emplace_back(x, y);
      }
    }
  }
  if (points.size() < 16) return false;
  AnchorTable table(points.size());
  // A 32 KiB bit filter in front of the table: most windows of the sent frame
  // match no anchor and are rejected without touching the (larger) table.
  std::vector<uint64_t> filter(4096, 0);
  auto bit = [](uint64_t h) { return (h * 0xC2B2AE3D27D4EB4Full) >> 46; };  // 18 bits
  for (const auto& [x, y] : points) {
    const uint64_t h = WindowHash(frame.pixel(x, y));
    AnchorTable::Slot* s = table.Find(h);
    if (s->x == -1) *s = AnchorTable::Slot{h, static_cast<int32_t>(x), static_cast<int32_t>(y)};
    else s->x = -2;
    filter[bit(h) >> 6] |= uint64_t{1} << (bit(h) & 63);
  }
  uint64_t top = 1;  // kRollBase^(kAnchor-1), to roll the oldest pixel out
  for (uint32_t i = 1; i < kAnchor; ++i) top *= kRollBase;
  // A dragged window leaves damage where it was, so its source lies inside the
  // damage too: only the damage's bounding box of the sent frame is scanned.
  uint32_t bx0 = UINT32_MAX, by0 = UINT32_MAX, bx1 = 0, by1 = 0;
  for (const Rect& r : rects) {
    bx0 = std::min(bx0, r.x), by0 = std::min(by0, r.y);
    bx1 = std::max(bx1, r.x + r.w), by1 = std::max(by1, r.y + r.h);
  }
  std::unordered_map<int64_t, uint32_t> votes;
  for (uint32_t y = by0; y < by1 && bx1 - bx0 >= kAnchor; ++y) {
    const uint8_t* row = sent.row(y);  // x below is absolute
    uint64_t h = WindowHash(row + static_cast<size_t>(bx0) * 4);
    for (uint32_t x = bx0;; ++x) {
      AnchorTable::Slot* s = (filter[bit(h) >> 6] >> (bit(h) & 63)) & 1 ? table.Find(h) : nullptr;
      if (s && s->x >= 0) {
        const int64_t ddx = s->x - static_cast<int64_t>(x), ddy = s->y - static_cast<int64_t>(y);
        if (ddx != 0 && ddy != 0) votes[ddy * (int64_t{1} << 32) + ddx]++;
      }
      if (x + kAnchor >= bx1) break;
      uint32_t out, in;
      std::memcpy(&out, row + x * 4, 4);
      std::memcpy(&in, row + (x + kAnchor) * 4, 4);
      h = (h - out * top) * kRollBase + in;
    }
  }
  uint32_t best = 0;
  int64_t key = 0;
  for (const auto& [k, v] : votes) {
    if (v > best || (v == best && k < key)) best = v, key = k;
  }
  if (best < 16) return false;
  *dx = static_cast<int32_t>(static_cast<uint32_t>(key));  // key = dy * 2^32 + dx
  *dy = static_cast<int>((key - *dx) / (int64_t{1} << 32));
  return true;
}

// Tiles of `rects` equal to the sent frame at (x - dx, y - dy), and not already equal in place.
void DragCopies(const FrameView& sent, const FrameView& frame, const std::vector<Rect>& rects, uint32_t tile, int dx,
                int dy, std::vector<CopyOp>* out) {
  for (const Rect& r : rects) {
    for (uint32_t ty = r.y; ty < r.y + r.h; ty += tile) {
      for (uint32_t tx = r.x; tx < r.x + r.w; tx += tile) {
        const uint32_t w = std::min(tile, r.x + r.w - tx), h = std::min(tile, r.y + r.h - ty);
        const int64_t sx = static_cast<int64_t>(tx) - dx, sy = static_cast<int64_t>(ty) - dy;
        if (sx < 0 || sy < 0 || sx + w > sent.width || sy + h > sent.height) continue;
        bool equal = true, in_place = true;
        for (uint32_t y = 0; y < h && equal; ++y) {
          equal = std::memcmp(frame.pixel(tx, ty + y), sent.pixel(static_cast<uint32_t>(sx), static_cast<uint32_t>(sy) + y), w * 4) == 0;
          in_place = in_place && std::memcmp(frame.pixel(tx, ty + y), sent.pixel(tx, ty + y), w * 4) == 0;
        }
        if (equal && !in_place) out->push_back(CopyOp{Rect{tx, ty, w, h}, static_cast<uint32_t>(sx), static_cast<uint32_t>(sy)});
      }
    }
  }
}

}  // namespace

std::vector<CopyOp> OrderCopies(std::vector<CopyOp> copies) {
  // Copy i must wait while another remaining copy reads where i writes.
  auto blocks = [](const CopyOp& reader, const CopyOp& writer) {
    return Overlaps(writer.dst, Rect{reader.src_x, reader.src_y, reader.dst.w, reader.dst.h});
  };
  std::vector<CopyOp> out;
  while (!copies.empty()) {
    bool progressed = false;
    for (size_t i = 0; i < copies.size(); ++i) {
      bool blocked = false;
      for (size_t k = 0; k < copies.size() && !blocked; ++k) blocked = k != i && blocks(copies[k], copies[i]);
      if (!blocked) {
        out.push_back(copies[i]);
        copies.erase(copies.begin() + static_cast<long>(i));
        progressed = true;
        break;
      }
    }
    if (progressed) continue;
    // A cycle: drop the smallest copy that holds another back; its pixels go as
    // pixels. (Dropping the first one dropped a whole scroll for a 16-row copy
    // that matched by chance: one keyframe's worth of bytes.)
    size_t drop = 0;
    uint64_t smallest = UINT64_MAX;
    for (size_t k = 0; k < copies.size(); ++k) {
      const uint64_t area = static_cast<uint64_t>(copies[k].dst.w) * copies[k].dst.h;
      if (area >= smallest) continue;
      for (size_t i = 0; i < copies.size(); ++i) {
        if (i != k && blocks(copies[k], copies[i])) {
          drop = k, smallest = area;
          break;
        }
      }
    }
    copies.erase(copies.begin() + static_cast<long>(drop));
  }
  return out;
}

std::vector<CopyOp> FindMoves(const FrameView& sent, const FrameView& frame, const std::vector<Rect>& rects,
                              const MoveSearch& search) {
  std::vector<CopyOp> found;
  std::vector<Rect> unexplained;  // rects where neither a vertical nor a horizontal move was found
  SentCache columns, rows;  // sent-line hashes per tile column / tile row, made once per call
  for (const Rect& r : rects) {
    const size_t before = found.size();
    SearchRect(Axis{true}, sent, frame, r, search, &columns, &found);
    if (found.size() == before) SearchRect(Axis{false}, sent, frame, r, search, &rows, &found);
    if (found.size() == before) unexplained.push_back(r);
  }
  int dx = 0, dy = 0;
  uint64_t area = 0;
  for (const Rect& r : unexplained) area += static_cast<uint64_t>(r.w) * r.h;
  if (area >= 4ull * search.tile_size * search.tile_size && FindDragShift(sent, frame, unexplained, &dx, &dy)) {
    DragCopies(sent, frame, unexplained, search.tile_size, dx, dy, &found);
  }
  return OrderCopies(JoinNeighbours(std::move(found)));
}

}  // namespace tilecast
