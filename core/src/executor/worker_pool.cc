#include "executor/worker_pool.h"

#include <utility>

#include "executor/spin.h"

namespace petit::internal {

void WorkerPool::Start(uint32_t threads) {
  workers_.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void WorkerPool::Submit(std::vector<WorkItem>& items) {
  const size_t count = items.size();
  if (count == 0) return;
  {
    MutexLock lock(mu_);
    for (WorkItem& item : items) work_.push_back(std::move(item));
    pending_work_.fetch_add(count, std::memory_order_release);
  }
  items.clear();
  if (count == 1) {
    work_cv_.Signal();
  } else {
    work_cv_.SignalAll();
  }
}

void WorkerPool::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  work_cv_.SignalAll();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void WorkerPool::WorkerLoop() {
  for (;;) {
    WorkItem item;
    {
      SpinFor([this] { return pending_work_.load(std::memory_order_acquire) != 0; });
      MutexLock lock(mu_);
      while (!stopping_ && work_.empty()) work_cv_.Wait(mu_);
      if (work_.empty()) return;
      pending_work_.fetch_sub(1, std::memory_order_relaxed);
      item = std::move(work_.front());
      work_.pop_front();
    }
    int64_t started_us = clock_.NowMicros();
    AttemptResult result = item.runner->Run(item.request, *item.control);
    Status storage_status = item.control->Finish();
    inbox_.PostCompletion(Completion{item.index, item.request.attempt, std::move(result),
                                     std::move(storage_status), item.control->TakeUnwritten(),
                                     started_us, clock_.NowMicros()});
  }
}

}  // namespace petit::internal
