#include "executor/worker_pool.h"

#include <thread>
#include <utility>

#include "executor/spin.h"

namespace petit::internal {

namespace {
std::atomic<size_t> g_abandoned{0};
}  // namespace

size_t AbandonedWorkerThreadCount() { return g_abandoned.load(std::memory_order_relaxed); }

WorkerPool& WorkerPool::Shared() {
  // Never destroyed: detached threads may still wait on its lock while the process exits.
  static auto* const pool = new WorkerPool();
  return *pool;
}

void WorkerPool::StartThread() {
  auto state = std::make_shared<WorkerState>();
  workers_.push_back(state);
  ++idle_;
  std::thread([this, state] { WorkerLoop(state); }).detach();
}

void WorkerPool::RecordRunning(WorkerState& state, const WorkItem& item) {
  state.sink = item.sink;
  state.index = item.index;
  state.attempt = item.request.attempt;
  state.phase.store(WorkerState::kRunning, std::memory_order_release);
}

size_t WorkerPool::threads() const {
  MutexLock lock(mu_);
  return workers_.size();
}

bool WorkerPool::Abandon(const WorkSink* sink, Dag::Index index, uint32_t attempt) {
  MutexLock lock(mu_);
  for (auto it = workers_.begin(); it != workers_.end(); ++it) {
    WorkerState& state = **it;
    // An idle worker may still name an attempt it ran (of a run since gone, at the same address).
    if (state.sink != sink || state.index != index || state.attempt != attempt) continue;
    int running = WorkerState::kRunning;
    if (!state.phase.compare_exchange_strong(running, WorkerState::kAbandoned,
                                             std::memory_order_acq_rel)) {
      continue;
    }
    workers_.erase(it);
    g_abandoned.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void WorkerPool::Submit(std::vector<WorkItem>& items) {
  const size_t count = items.size();
  if (count == 0) return;
  {
    MutexLock lock(mu_);
    for (WorkItem& item : items) work_.push_back(std::move(item));
    pending_work_.fetch_add(count, std::memory_order_release);
    while (work_.size() > idle_) StartThread();
  }
  items.clear();
  if (count == 1) {
    work_cv_.Signal();
  } else {
    work_cv_.SignalAll();
  }
}

bool WorkerPool::Take(WorkerState& state, WorkItem& item) {
  SpinFor([this] { return pending_work_.load(std::memory_order_acquire) != 0; });
  MutexLock lock(mu_);
  while (work_.empty()) {
    if (work_cv_.WaitFor(mu_, kIdleThreadLife) && work_.empty()) {
      --idle_;
      for (auto it = workers_.begin(); it != workers_.end(); ++it) {
        if (it->get() != &state) continue;
        workers_.erase(it);
        break;
      }
      return false;
    }
  }
  --idle_;
  pending_work_.fetch_sub(1, std::memory_order_relaxed);
  item = std::move(work_.front());
  work_.pop_front();
  RecordRunning(state, item);
  return true;
}

void WorkerPool::WorkerLoop(const std::shared_ptr<WorkerState>& state) {
  WorkItem item;
  std::vector<WorkItem> next;
  for (;;) {
    if (!Take(*state, item)) return;
    for (;;) {
      const int64_t started_us = item.clock->NowMicros();
      AttemptResult result = item.runner->Run(item.request, *item.control);
      int running = WorkerState::kRunning;
      if (!state->phase.compare_exchange_strong(running, WorkerState::kIdle,
                                                std::memory_order_acq_rel)) {
        return;  // abandoned: the run has moved on and may be gone; touch nothing of it
      }
      item.sink->Complete(item, std::move(result), started_us, next);
      item = WorkItem();
      if (next.empty()) break;
      // The run's next attempt stays on this thread; any others go to the queue.
      size_t queued = 0;
      {
        MutexLock lock(mu_);
        item = std::move(next.front());
        RecordRunning(*state, item);
        for (size_t i = 1; i < next.size(); ++i) work_.push_back(std::move(next[i]));
        queued = next.size() - 1;
        if (queued != 0) {
          pending_work_.fetch_add(queued, std::memory_order_release);
          while (work_.size() > idle_) StartThread();
        }
      }
      next.clear();
      if (queued == 1) work_cv_.Signal();
      if (queued > 1) work_cv_.SignalAll();
    }
    MutexLock lock(mu_);
    ++idle_;
  }
}

}  // namespace petit::internal
