// Clang thread-safety annotations: the one spelling Petit uses to say which lock guards a field and
// which locks a function needs, so `-Wthread-safety` (the `thread-safety` CMake preset) checks it.
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html describes what each attribute means.
//
// The macros expand to the attributes under Clang and to nothing elsewhere, so GCC builds see
// plain declarations. The names carry no prefix, as in LevelDB's port/thread_annotations.h; each
// is defined only when no other header defined it first.
//
// Annotate with petit::Mutex / petit::MutexLock (petit/core/mutex.h): std::mutex carries no
// capability attribute, so the analysis cannot see it being locked.
#ifndef PETIT_CORE_THREAD_ANNOTATIONS_H_
#define PETIT_CORE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define PETIT_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define PETIT_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are capabilities (locks) named `x` in diagnostics ("mutex").
#ifndef CAPABILITY
#define CAPABILITY(x) PETIT_THREAD_ANNOTATION_(capability(x))
#endif

// On a class: RAII objects that hold the capabilities their constructor acquires.
#ifndef SCOPED_CAPABILITY
#define SCOPED_CAPABILITY PETIT_THREAD_ANNOTATION_(scoped_lockable)
#endif

// On a field: reading it needs `x` held (shared or exclusive), writing it needs `x` exclusively.
#ifndef GUARDED_BY
#define GUARDED_BY(x) PETIT_THREAD_ANNOTATION_(guarded_by(x))
#endif

// On a pointer field: the same for what it points to (the pointer itself is not guarded).
#ifndef PT_GUARDED_BY
#define PT_GUARDED_BY(x) PETIT_THREAD_ANNOTATION_(pt_guarded_by(x))
#endif

// On a lock field: the lock order. This one is taken before / after the ones named.
#ifndef ACQUIRED_BEFORE
#define ACQUIRED_BEFORE(...) PETIT_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#endif
#ifndef ACQUIRED_AFTER
#define ACQUIRED_AFTER(...) PETIT_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
#endif

// On a function: callers must hold the capabilities exclusively / at least shared.
#ifndef REQUIRES
#define REQUIRES(...) PETIT_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#endif
#ifndef REQUIRES_SHARED
#define REQUIRES_SHARED(...) PETIT_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#endif

// On a function: acquires the capabilities (exclusively / shared) and returns holding them. With
// no argument on a member function of a capability class: the object itself.
#ifndef ACQUIRE
#define ACQUIRE(...) PETIT_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#endif
#ifndef ACQUIRE_SHARED
#define ACQUIRE_SHARED(...) PETIT_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#endif

// On a function: releases the capabilities, however they were held (RELEASE is what a scoped
// lock's destructor says, shared or not).
#ifndef RELEASE
#define RELEASE(...) PETIT_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#endif
#ifndef RELEASE_SHARED
#define RELEASE_SHARED(...) PETIT_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#endif

// On a function returning bool: acquires the capabilities when it returns the first argument.
#ifndef TRY_ACQUIRE
#define TRY_ACQUIRE(...) PETIT_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#endif

// On a function: callers must not hold the capabilities (the function takes them itself, or
// calls something that does).
#ifndef EXCLUDES
#define EXCLUDES(...) PETIT_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#endif

// On a function: after it returns, the analysis takes `x` as held (it checks, or trusts, that it
// is).
#ifndef ASSERT_CAPABILITY
#define ASSERT_CAPABILITY(x) PETIT_THREAD_ANNOTATION_(assert_capability(x))
#endif

// On a function: it returns a reference to the capability `x`, so callers may lock through it.
#ifndef RETURN_CAPABILITY
#define RETURN_CAPABILITY(x) PETIT_THREAD_ANNOTATION_(lock_returned(x))
#endif

// On a function: the analysis skips its body. Only where a lock is handed across something the
// analysis cannot follow, with a comment saying what.
#ifndef NO_THREAD_SAFETY_ANALYSIS
#define NO_THREAD_SAFETY_ANALYSIS PETIT_THREAD_ANNOTATION_(no_thread_safety_analysis)
#endif

#endif  // PETIT_CORE_THREAD_ANNOTATIONS_H_
