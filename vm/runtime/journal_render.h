// The journal as text, rendered from tick records (runtime.md "The tick record"): what
// `inspect`, `timeline`, `replay` and the storage tests read. A record stores its event
// lines as the trace printed them; the `state` line of each instance it wrote is not
// stored but rendered from the instance record the tick record holds, so that a tick
// neither hashes its states for the journal nor stores the hashes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/runtime/tick_record.h"
#include "vm/value.h"

namespace ved::vm {

// `state TAB instance TAB <hash> <field hashes>`: the state's hash is the hash of its
// fields' hashes, and each field's is shown short, so that replay can name the first
// field that differs.
std::string state_line(const std::string& instance, const Value& state);

// The record's event lines with the state line of each instance write placed where the
// tick recorded it; `state_of(k, line)` makes instance write k's line (false: an error).
// The one place that decides the order, for stored records and a run in memory alike.
bool interleave_state_lines(const TickRecord& record, const std::function<bool(size_t, std::string&)>& state_of,
                            std::vector<std::string>& lines);

// The record's journal lines: its event lines, with each written instance's state line
// where the tick recorded it. False with `error` when an instance record does not decode.
bool render_journal(const Program& program, const TickRecord& record, std::vector<std::string>& lines,
                    std::string& error);

}  // namespace ved::vm
