// A small fixed pool of native threads for splitting one frame's tiles across cores.
//
// ParallelFor is called from a libuv worker thread (inside an AsyncWorker's Execute),
// never from the JS thread. The calling thread takes part in the work, so a pool of
// N-1 helpers gives N-way parallelism, and `max_threads == 1` runs inline with no
// synchronisation at all. Several callers may use the pool at once; each job keeps
// its own counter, and helpers pick up whichever job has work left.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tilecast {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned helper_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn(i) for every i in [0, count) using at most max_threads threads
  // (including the caller) and returns when all calls have finished.
  void ParallelFor(size_t count, unsigned max_threads, const std::function<void(size_t)>& fn);

  unsigned helper_count() const { return static_cast<unsigned>(helpers_.size()); }

  // Process-wide pool sized to the machine (hardware_concurrency - 1 helpers).
  static ThreadPool& Shared();

 private:
  struct Job {
    const std::function<void(size_t)>* fn;
    size_t count;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::atomic<unsigned> helpers_allowed;
    std::mutex mu;
    std::condition_variable finished;
  };

  static void RunItems(Job& job);
  void HelperLoop();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace tilecast
