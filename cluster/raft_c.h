// libraft's headers, for C++. They lack `extern "C"` (architecture.md §4), and several
// of their structs share a name with a function (raft_apply, raft_barrier, raft_transfer):
// in C++ write `struct raft_apply req;` for the struct.
#pragma once

extern "C" {
#include <raft.h>
}
