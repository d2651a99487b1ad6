// Log.Info, Log.Warn: one line per intent on a stream (stderr by default), between ticks.
#include <exception>
#include <mutex>
#include <ostream>
#include <string>

#include "vm/effects/adapter_text.h"
#include "vm/effects/builtin_adapters.h"

namespace ved::vm {

namespace {

class LogEffects final : public EffectAdapter {
 public:
  explicit LogEffects(std::ostream& out) : out_(out) {}

  bool between_ticks() const override { return true; }

  // `log info Pool: message`. The message and the instance are escaped (escape_line), so
  // one intent is always exactly one line: a message cannot forge a line that looks like
  // another instance's log.
  EffectOutcome execute(const EffectRequest& request) override {
    try {
      const char* level = request.effect_name == "Log.Info" ? "info" : request.effect_name == "Log.Warn" ? "warn" : nullptr;
      if (!level || request.args.size() != 1 || request.args[0].tag() != Tag::String)
        return EffectOutcome::failure("adapter", "the log adapter cannot serve `" + request.effect_name +
                                                     "` with these arguments");
      std::string line = "log ";
      line += level;
      line += ' ';
      if (!request.instance.empty()) line += escape_line(request.instance) + ": ";
      line += escape_line(request.args[0].as_string());
      line += '\n';
      // One write of the whole line, under a lock: lines stay whole even if this adapter is
      // ever called from more than one thread.
      std::lock_guard<std::mutex> lock(mutex_);
      out_.write(line.data(), static_cast<std::streamsize>(line.size()));
      out_.flush();
      if (!out_) {
        out_.clear();  // a later line may get through
        return EffectOutcome::failure("io", "cannot write the log line");
      }
      return EffectOutcome::success(Value::unit());
    } catch (const std::exception& e) {  // execute never throws (adapter.h)
      return EffectOutcome::failure("adapter", std::string("the log adapter broke: ") + e.what());
    }
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

}  // namespace

std::shared_ptr<EffectAdapter> make_log_effects(std::ostream& out) { return std::make_shared<LogEffects>(out); }

}  // namespace ved::vm
