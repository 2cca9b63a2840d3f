// Giving back the pages of a thread's stack that it no longer uses.
//
// A thread keeps every stack page it ever touched: a run thread that once went deep (SQLite, a
// plugin, a long error message) holds those pages while it waits idle for the next run, and the
// daemon keeps as many spare run threads as runs ran at once in the last half minute
// (thread_run_launcher.h). ReleaseUnusedStack drops the pages below the caller's frame, less a
// margin, so an idle thread costs the pages it uses while waiting. The pages come back, zeroed,
// when the thread goes deep again: only what lies below the stack pointer is dropped, and nothing
// there is live (the x86-64 red zone is 128 bytes, the margin far more).
//
// Threads: acts on the calling thread's own stack; not for the main thread (its stack is the
// process's, which glibc describes from /proc/self/maps, and which the kernel grows on demand).
#ifndef PETIT_HOST_RUNTIME_THREAD_STACK_H_
#define PETIT_HOST_RUNTIME_THREAD_STACK_H_

#include <cstddef>

namespace petit::host {

// Left resident below the caller's frame: what the calls it makes before it next blocks may use.
inline constexpr size_t kKeptStackBelowFrame = 16 * 1024;

// Drops the calling thread's stack pages more than kKeptStackBelowFrame below its frame; returns
// how many bytes it asked the kernel to drop (0 when there was nothing, or the stack's bounds are
// unknown).
size_t ReleaseUnusedStack();

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_THREAD_STACK_H_
