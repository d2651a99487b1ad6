// A program that runs out of memory on a thread of its own, as LevelDB's compaction
// thread can: with vedvm's terminate handler installed (tools/vedvm/out_of_memory.h) it
// must say so and exit 1, not abort. Run by the test "out of memory: ..." in
// tests/CMakeLists.txt, which checks the message and the status.
#include <new>
#include <thread>

#include "tools/vedvm/out_of_memory.h"

int main() {
  vedvm::stop_cleanly_on_out_of_memory();
  std::thread([] { throw std::bad_alloc(); }).join();
  return 0;  // not reached
}
