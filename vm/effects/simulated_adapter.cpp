#include "vm/effects/simulated_adapter.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "vm/value_codec.h"

namespace ved::vm {

namespace {

class ScriptedAdapter final : public EffectAdapter {
 public:
  explicit ScriptedAdapter(std::vector<EffectOutcome> answers) : answers_(std::move(answers)) {}
  bool between_ticks() const override { return true; }
  // Answers by the intent's ordinal and touches nothing: asking again is harmless.
  bool repeatable() const override { return true; }
  EffectOutcome execute(const EffectRequest& request) override {
    // By the intent's ordinal, not by how often this was called: an intent re-dispatched
    // after a crash gets the answer it would have had.
    const size_t k = request.ordinal < answers_.size() ? static_cast<size_t>(request.ordinal) : answers_.size() - 1;
    return answers_[k];
  }

 private:
  std::vector<EffectOutcome> answers_;  // never empty
};

// `ok[:VALUE]` or `fail[:MESSAGE]` for an effect with result type `result`.
bool parse_answer(const Program& program, const std::string& name, uint32_t result, const std::string& spec,
                  EffectOutcome& out, std::string& error) {
  const size_t colon = spec.find(':');
  const std::string verb = spec.substr(0, colon);
  const bool has_text = colon != std::string::npos;
  const std::string text = has_text ? spec.substr(colon + 1) : "";
  if (verb == "fail") {
    out = EffectOutcome::failure("failed", has_text ? text : "failed (simulated)");
    return true;
  }
  if (verb != "ok") {
    error = "`" + spec + "`: expected ok[:VALUE], fail[:MESSAGE] or script:FILE";
    return false;
  }
  const TypeInfo& t = program.types[result];
  Value value;
  if (t.kind == TypeKind::Unit || (!has_text && t.kind != TypeKind::String)) {
    value = zero_value(program, result);
  } else if (t.kind == TypeKind::String) {
    value = Value::string(text);
  } else if (t.kind == TypeKind::Bool && (text == "true" || text == "false")) {
    value = Value::boolean(text == "true");
  } else if (t.kind == TypeKind::Int || t.kind == TypeKind::Float) {
    try {
      size_t used = 0;
      value = t.kind == TypeKind::Int ? Value::integer(std::stoll(text, &used)) : Value::floating(std::stod(text, &used));
      if (used != text.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      error = "`" + text + "` is not a value of `" + name + "`'s result type";
      return false;
    }
  } else {
    error = "`" + name + "` returns a value that a simulated adapter cannot give (only unit, bool, int, float, string)";
    return false;
  }
  out = EffectOutcome::success(std::move(value));
  return true;
}

}  // namespace

std::shared_ptr<EffectAdapter> make_fixed_adapter(EffectOutcome outcome) {
  return std::make_shared<ScriptedAdapter>(std::vector<EffectOutcome>{std::move(outcome)});
}

std::shared_ptr<EffectAdapter> parse_simulated_adapter(const Program& program, const std::string& name,
                                                       const std::string& spec, std::string& error) {
  const ExternalInfo* effect = nullptr;
  for (const auto& e : program.effects)
    if (e.name == name) effect = &e;
  if (!effect) {
    error = "the program has no effect `" + name + "`";
    return nullptr;
  }
  std::vector<EffectOutcome> answers;
  if (spec.rfind("script:", 0) == 0) {
    const std::string file = spec.substr(7);
    std::ifstream in(file);
    if (!in) {
      error = "cannot read the script `" + file + "`";
      return nullptr;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      EffectOutcome o;
      if (!parse_answer(program, name, effect->result, line, o, error)) {
        error = file + ":" + std::to_string(number) + ": " + error;
        return nullptr;
      }
      answers.push_back(std::move(o));
    }
    if (answers.empty()) {
      error = "the script `" + file + "` has no answers (one `ok[:VALUE]` or `fail[:MESSAGE]` per line)";
      return nullptr;
    }
  } else {
    EffectOutcome o;
    if (!parse_answer(program, name, effect->result, spec, o, error)) return nullptr;
    answers.push_back(std::move(o));
  }
  return std::make_shared<ScriptedAdapter>(std::move(answers));
}

}  // namespace ved::vm
