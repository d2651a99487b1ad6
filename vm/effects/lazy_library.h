// A shared library opened with dlopen when one of its functions is first needed, not
// when the process starts.
//
// libcurl and libzmq serve only the HTTP effects and the external adapters, but linked
// the ordinary way they and what they pull in (TLS, Kerberos, LDAP, ... 37 of vedvm's 52
// shared libraries) were mapped and relocated at every start of vedvm, `--version` and
// runs that never touch the network included: most of its start-up time. Opened lazily,
// they cost nothing until a program uses them.
#pragma once

#include <mutex>
#include <string>

namespace ved::vm {

class LazyLibrary {
 public:
  // `soname`: the exact file name to open, e.g. "libcurl.so.4" (the ABI built against).
  explicit LazyLibrary(const char* soname) : soname_(soname) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of function `name`, opening the library on first use (once, whatever the
  // number of threads asking). Null when the library or the function cannot be loaded;
  // error() then says which and why.
  void* function(const char* name);
  // Why the last failed load failed, naming the library (empty if nothing failed).
  std::string error() const;

 private:
  const char* soname_;
  std::once_flag opened_;
  void* handle_ = nullptr;
  mutable std::mutex mu_;  // guards error_
  std::string error_;
};

}  // namespace ved::vm
