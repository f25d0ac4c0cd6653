// MoveDetector: finds content that moved between what a viewer has (the sent
// frame) and the new frame, so it can go as COPY ops plus the newly exposed
// pixels instead of a screenful of pixels (scrolling, window drags).
//
// Works per tile column (vertical moves) and per tile row (horizontal moves):
// every row segment of a column is hashed in both frames, segments of the new
// frame vote for the shift that would bring an equal segment of the old one
// there, and the winning shifts are checked byte by byte. Flat segments (one
// colour) match anything, so they neither vote nor start a run. Runs of at
// least kMinRun matching rows become copies; copies of neighbouring columns
// with the same shift and extent are joined. A copy is returned only where the
// frame differs from the sent frame, i.e. where it saves bytes. Where neither
// direction explains a large change, a window drag (both directions at once,
// any amount) is looked for with rolling hashes of 16-pixel windows, and the
// tiles that match at the winning shift become copies.
//
// The result is ordered so that applying the copies one after another, each
// reading the framebuffer as it is at that moment, equals applying them all at
// once from the old frame (COPY semantics on the wire); a copy that cannot be
// ordered so is dropped.
//
// Thread: a pure function; any thread but the JS thread (it may use the shared pool).
#pragma once
#include <cstdint>
#include <vector>

#include "../codec/tile_encoder.h"
#include "../util/frame_view.h"

namespace tilecast {

struct MoveSearch {
  uint32_t tile_size = 64;
  uint32_t min_run = 16;        // rows (or columns) a copy must span
  uint32_t max_candidates = 3;  // shifts tried per rect and direction
  unsigned max_threads = 1;     // line hashing runs per band on the shared thread pool
};

// `sent` and `frame` have the same size. Only rects of `frame` are searched for
// moved content (the damage); sources may lie anywhere in `sent`.
std::vector<CopyOp> FindMoves(const FrameView& sent, const FrameView& frame, const std::vector<Rect>& rects,
                              const MoveSearch& search);

// Orders copies for sequential application (see above); drops those in a cycle.
std::vector<CopyOp> OrderCopies(std::vector<CopyOp> copies);

}  // namespace tilecast
