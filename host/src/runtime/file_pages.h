// Giving back the file pages an idle daemon mapped while it started but no longer runs.
//
// Most of an idle `petit run`'s resident memory is mapped files: code and read-only data of
// petit, libstdc++, libc, Poco, SQLite and the plugins. Start-up touches pages across all of
// them (the dynamic loader's relocations, static constructors, the job files' parse, recovery,
// the first store queries), and for each page a process faults in, the kernel maps up to 64 KiB of
// the file around it that is already cached (fault-around). Those pages stay in the process's
// RSS for as long as it lives, though an idle daemon runs few of them.
//
// DropCleanFilePages unmaps, from this process only, every page of a loaded object's code and
// read-only data (its segments that are never writable) that cannot differ from the file: a
// mapping that holds a private copy of a page (a text relocation; a debugger's breakpoint) is
// kept. That is what the kernel itself does to any of those pages under memory pressure, so
// nothing can tell the difference but the time: the pages stay in the page cache, and those the
// process uses again come back with a minor fault. Files mapped otherwise are left alone.
//
// Threads: any thread; other threads may run meanwhile (a page they need comes back at once). It
// holds the dynamic loader's lock on the list of loaded objects while it works (about half a
// millisecond), which dlopen, dlclose and dl_iterate_phdr of other threads wait for: an object
// cannot be unloaded, and its addresses reused by another mapping, between the reading of
// /proc/self/smaps and the dropping of its pages.
#ifndef PETIT_HOST_RUNTIME_FILE_PAGES_H_
#define PETIT_HOST_RUNTIME_FILE_PAGES_H_

#include <cstddef>
#include <string_view>

namespace petit::host {

// Drops the clean file pages described above; returns how many bytes of them were resident (what
// RSS falls by, less what other threads fault back meanwhile). 0 when /proc/self/smaps cannot be
// read.
size_t DropCleanFilePages();

namespace internal {

// A mapping of /proc/PID/smaps that DropCleanFilePages drops where it lies in a loaded object's
// read-only segment: `header` is its first line, `anonymous_kb` its "Anonymous:" field.
bool IsCleanFileMapping(std::string_view header, size_t anonymous_kb);

}  // namespace internal
}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_FILE_PAGES_H_
