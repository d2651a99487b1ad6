#include "vm/runtime/program_history.h"

#include <sstream>

#include "vm/bundle_loader.h"

namespace ved::vm {

std::string encode_program_history(const std::vector<ProgramEpoch>& epochs) {
  std::string out;
  for (const ProgramEpoch& e : epochs) out += std::to_string(e.first_tick) + " " + hex_u64(e.hash) + "\n";
  return out;
}

bool decode_program_history(std::string_view text, std::vector<ProgramEpoch>& epochs) {
  epochs.clear();
  std::istringstream in{std::string(text)};
  int64_t first = 0;
  std::string hash;
  while (in >> first >> hash) {
    ProgramEpoch e{first, 0};
    if (!parse_hex_u64(hash, e.hash)) return false;
    if (epochs.empty() ? first != 0 : first <= epochs.back().first_tick) return false;
    epochs.push_back(e);
  }
  return in.eof() && !epochs.empty();
}

std::string program_storage_key(uint64_t hash) { return "prog/" + hex_u64(hash); }

bool ProgramHistory::open(const Store& store, const Program* current, std::string& error) {
  store_ = &store;
  current_ = current;
  std::string text;
  if (const Status s = store.get("meta/programs", text); !s.is_ok()) {
    error = s.is_not_found() ? "the data dir is damaged: meta/programs is missing" : s.message();
    return false;
  }
  if (!decode_program_history(text, epochs_)) {
    error = "the data dir is damaged: meta/programs is not a list of `<first tick> <program hash>` lines";
    return false;
  }
  return true;
}

size_t ProgramHistory::epoch_at(int64_t tick) const {
  size_t k = 0;
  while (k + 1 < epochs_.size() && epochs_[k + 1].first_tick <= tick) ++k;
  return k;
}

bool ProgramHistory::is_upgrade(int64_t tick) const {
  for (size_t k = 1; k < epochs_.size(); ++k)
    if (epochs_[k].first_tick == tick) return true;
  return false;
}

bool ProgramHistory::bundle(size_t k, std::string& bytes, std::string& error) const {
  const std::string key = program_storage_key(epochs_[k].hash);
  if (const Status s = store_->get(key, bytes); !s.is_ok()) {
    error = "the data dir is damaged: " + (s.is_not_found() ? key + " (a program the run has used) is missing" : s.message());
    return false;
  }
  return true;
}

const Program* ProgramHistory::program(size_t k, std::string& error) {
  const uint64_t hash = epochs_[k].hash;
  if (current_ && current_->hash == hash) return current_;
  if (auto it = loaded_.find(hash); it != loaded_.end()) return it->second.get();
  std::string bytes;
  if (!bundle(k, bytes, error)) return nullptr;
  auto p = std::make_unique<Program>();
  if (!load_bundle(bytes, *p, error)) {
    error = "the data dir is damaged: " + program_storage_key(hash) + ": " + error;
    return nullptr;
  }
  if (p->hash != hash) {
    error = "the data dir is damaged: " + program_storage_key(hash) + " holds another program";
    return nullptr;
  }
  return loaded_.emplace(hash, std::move(p)).first->second.get();
}

}  // namespace ved::vm
