#include "out_of_memory.h"

#include <unistd.h>

#include <exception>
#include <new>
#include <stdexcept>

namespace vedvm {

namespace {

// Written with write(2) and nothing allocated: there is no memory to spare.
constexpr char kMessage[] =
    "vedvm: error: the machine ran out of memory (in a background thread of the database or the JIT; "
    "nothing committed was lost: the data dir is as the last durable tick left it; "
    "run it again on a machine with more memory)\n";

void on_terminate() {
  bool out_of_memory = false;
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    } catch (const std::length_error&) {
      out_of_memory = true;
    } catch (...) {
    }
  }
  if (out_of_memory) {
    [[maybe_unused]] const ssize_t written = ::write(2, kMessage, sizeof kMessage - 1);
    ::_exit(1);
  }
  std::abort();
}

}  // namespace

void stop_cleanly_on_out_of_memory() { std::set_terminate(on_terminate); }

}  // namespace vedvm
