#include "thread_pool.h"

#include <algorithm>

namespace tilecast {

ThreadPool::ThreadPool(unsigned helper_threads) {
  for (unsigned i = 0; i < helper_threads; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

ThreadPool& ThreadPool::Shared() {
  // Leaked on purpose: helper threads must outlive every addon instance and
  // static destruction order at process exit is not ours to control.
  static ThreadPool* pool = [] {
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    return new ThreadPool(std::min(hw, 8u) - 1);
  }();
  return *pool;
}

void ThreadPool::RunItems(Job& job) {
  size_t finished_here = 0;
  for (;;) {
    size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.count) break;
    (*job.fn)(i);
    ++finished_here;
  }
  if (finished_here == 0) return;
  if (job.done.fetch_add(finished_here, std::memory_order_acq_rel) + finished_here == job.count) {
    std::lock_guard<std::mutex> lock(job.mu);
    job.finished.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t count, unsigned max_threads, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  unsigned helpers = std::min<unsigned>(max_threads > 0 ? max_threads - 1 : 0, helper_count());
  if (helpers == 0 || count == 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  job->helpers_allowed.store(helpers);
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(job);
  }
  wake_.notify_all();
  RunItems(*job);
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->finished.wait(lock, [&] { return job->done.load(std::memory_order_acquire) == count; });
  }
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), job), jobs_.end());
}

void ThreadPool::HelperLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] {
        if (stopping_) return true;
        for (auto& j : jobs_) {
          if (j->next.load(std::memory_order_relaxed) < j->count && j->helpers_allowed.load() > 0) return true;
        }
        return false;
      });
      if (stopping_) return;
      for (auto& j : jobs_) {
        if (j->next.load(std::memory_order_relaxed) < j->count && j->helpers_allowed.load() > 0) {
          j->helpers_allowed.fetch_sub(1);
          job = j;
          break;
        }
      }
    }
    if (job) RunItems(*job);
  }
}

}  // namespace tilecast
