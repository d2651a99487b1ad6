// The outcome of a storage operation: ok, or what went wrong as a kind a caller can act
// on, with a message for people. (LevelDB's Status idea; before it, a bool and a string
// that callers searched for words, and "not found" was a false with an empty string.)
#pragma once

#include <string>
#include <utility>

namespace ved::vm {

class Status {
 public:
  enum class Code {
    Ok,
    NotFound,     // the key or file is not there: often not an error at all
    Damaged,      // what is stored cannot be trusted (a checksum, a record cut short)
    NotADataDir,  // a directory that is not provably a Ved data dir
    OtherFormat,  // a data dir written by another version of the VM
    InUse,        // another process holds the data dir's lock
    NoSpace,      // the device is full: nothing committed was lost
    ReadOnly,     // a read-only file system
    NoPermission,
    IoError,      // any other failure of the system
    NotCommitted, // the cluster did not commit a group of ticks (tick_replicator.h)
  };

  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(Code code, std::string message) { return Status(code, std::move(message)); }
  static Status not_found(std::string what) { return Status(Code::NotFound, std::move(what)); }
  static Status damaged(std::string message) { return Status(Code::Damaged, std::move(message)); }
  static Status io_error(std::string message) { return Status(Code::IoError, std::move(message)); }

  bool is_ok() const { return code_ == Code::Ok; }
  bool is_not_found() const { return code_ == Code::NotFound; }
  bool is_damaged() const { return code_ == Code::Damaged; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same kind, with `context` in front of the message ("reading meta/head: ...").
  Status with_context(const std::string& context) const { return Status(code_, context + ": " + message_); }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::Ok;
  std::string message_;
};

}  // namespace ved::vm
