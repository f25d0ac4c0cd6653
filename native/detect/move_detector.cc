#include "move_detector.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

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
  const uint8_t* Pixel(const FrameView& f, uint32_t pos, uint32_t band_at) const {
    return vertical ? f.pixel(band_at, pos) : f.pixel(pos, band_at);
  }
  size_t Step(const FrameView& f) const { return vertical ? 4 : f.stride; }

  uint64_t Hash(const FrameView& f, uint32_t pos, uint32_t band_at, uint32_t band_len) const {
    const uint8_t* p = Pixel(f, pos, band_at);
    const size_t step = Step(f);
    uint32_t first;
    std::memcpy(&first, p, 4);
    uint64_t h = 0x84222325CBF29CE4ull;
    bool flat = true;
    for (uint32_t i = 0; i < band_len; ++i, p += step) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      flat = flat && v == first;
      h = Mix(h, v + (static_cast<uint64_t>(i) << 32));
    }
    return flat ? kFlat : (h == kFlat ? 1 : h);
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

struct BandHashes {
  uint32_t at, len;
  std::vector<uint64_t> sent;   // every position of the sent frame
  std::vector<uint64_t> frame;  // positions [p0, p1) of the new frame
};

void SearchRect(const Axis& axis, const FrameView& sent, const FrameView& frame, const Rect& r, const MoveSearch& s,
                std::vector<CopyOp>* out) {
  const uint32_t n = axis.vertical ? frame.height : frame.width;
  const uint32_t p0 = axis.vertical ? r.y : r.x, p1 = p0 + (axis.vertical ? r.h : r.w);
  const uint32_t b0 = axis.vertical ? r.x : r.y, b1 = b0 + (axis.vertical ? r.w : r.h);
  if (p1 - p0 < s.min_run) return;

  std::vector<BandHashes> bands;
  for (uint32_t b = b0; b < b1; b += s.tile_size) {
    BandHashes h;
    h.at = b;
    h.len = std::min(s.tile_size, b1 - b);
    h.sent.resize(n);
    for (uint32_t p = 0; p < n; ++p) h.sent[p] = axis.Hash(sent, p, h.at, h.len);
    h.frame.resize(p1 - p0);
    for (uint32_t p = p0; p < p1; ++p) h.frame[p - p0] = axis.Hash(frame, p, h.at, h.len);
    bands.push_back(std::move(h));
  }

  // Vote: each distinctive line of the new frame for the shifts that would bring
  // an equal line of the sent frame there. Repeated lines (table rules) vote a
  // few times at most.
  std::unordered_map<int, uint32_t> votes;
  for (const BandHashes& h : bands) {
    std::unordered_map<uint64_t, std::vector<uint32_t>> where;
    for (uint32_t p = 0; p < n; ++p) {
      if (h.sent[p] == kFlat) continue;
      auto& v = where[h.sent[p]];
      if (v.size() < 4) v.push_back(p);
    }
    for (uint32_t p = p0; p < p1; ++p) {
      const uint64_t hv = h.frame[p - p0];
      if (hv == kFlat || hv == h.sent[p]) continue;  // unchanged lines say nothing about motion
      auto it = where.find(hv);
      if (it == where.end()) continue;
      for (uint32_t q : it->second) votes[static_cast<int>(p) - static_cast<int>(q)]++;
    }
  }
  std::vector<std::pair<uint32_t, int>> ranked;
  for (const auto& [shift, count] : votes) {
    if (count >= s.min_run / 2) ranked.emplace_back(count, shift);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : std::abs(a.second) < std::abs(b.second);
  });
  if (ranked.size() > s.max_candidates) ranked.resize(s.max_candidates);

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
                           h.frame[p - p0] == h.sent[q] && axis.Equal(frame, p, sent, q, h.at, h.len);
        if (!match) {
          flush();
          continue;
        }
        if (run_len == 0) run_start = p;
        run_len++;
        if (h.frame[p - p0] != kFlat) distinctive++;
        if (h.frame[p - p0] != h.sent[p]) useful = true;
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

}  // namespace

std::vector<CopyOp> OrderCopies(std::vector<CopyOp> copies) {
  // Copy i may go now if no remaining copy reads where i writes.
  std::vector<CopyOp> out;
  while (!copies.empty()) {
    bool progressed = false;
    for (size_t i = 0; i < copies.size(); ++i) {
      bool blocked = false;
      for (size_t k = 0; k < copies.size() && !blocked; ++k) {
        const CopyOp& o = copies[k];
        blocked = k != i && Overlaps(copies[i].dst, Rect{o.src_x, o.src_y, o.dst.w, o.dst.h});
      }
      if (!blocked) {
        out.push_back(copies[i]);
        copies.erase(copies.begin() + static_cast<long>(i));
        progressed = true;
        break;
      }
    }
    if (!progressed) copies.erase(copies.begin());  // a cycle: drop one, its pixels go as pixels
  }
  return out;
}

std::vector<CopyOp> FindMoves(const FrameView& sent, const FrameView& frame, const std::vector<Rect>& rects,
                              const MoveSearch& search) {
  std::vector<CopyOp> found;
  for (const Rect& r : rects) {
    const size_t before = found.size();
    SearchRect(Axis{true}, sent, frame, r, search, &found);
    if (found.size() == before) SearchRect(Axis{false}, sent, frame, r, search, &found);
  }
  return OrderCopies(JoinNeighbours(std::move(found)));
}

}  // namespace tilecast
