// Running out of memory on a thread vedvm does not own.
//
// The tick loop catches std::bad_alloc and stops the run cleanly ("the machine ran out of
// memory", exit 1). A thread of a library — LevelDB's compaction thread, which allocates
// as it builds a table — has nobody to catch it: the exception reached std::terminate and
// vedvm aborted (SIGABRT, a core). Stopping there instead is as safe as a kill -9 (nothing
// committed depends on the process surviving: docs/runtime.md "Storage"), and says why.
#pragma once

namespace vedvm {

// Installs a std::terminate handler that, for an uncaught std::bad_alloc (or
// std::length_error, how a container reports an impossible size), writes one
// `vedvm: error:` line and exits with status 1; anything else aborts as before.
void stop_cleanly_on_out_of_memory();

}  // namespace vedvm
