#include "runtime/thread_stack.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace petit::host {

// noinline: the frame whose address bounds what is kept must be this call's, below the caller's.
[[gnu::noinline]] size_t ReleaseUnusedStack() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
  void* base = nullptr;  // the lowest address of the stack, above its guard
  size_t size = 0;
  const bool known = pthread_attr_getstack(&attr, &base, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!known || base == nullptr) return 0;
  const auto low = reinterpret_cast<uintptr_t>(base);
  const auto frame = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  if (frame < low + kKeptStackBelowFrame + page) return 0;
  const uintptr_t keep_from = (frame - kKeptStackBelowFrame) & ~(page - 1);
  if (madvise(base, keep_from - low, MADV_DONTNEED) != 0) return 0;
  return keep_from - low;
}

}  // namespace petit::host
