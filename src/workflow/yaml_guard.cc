#include "krdc/workflow/yaml_guard.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "krdc/workflow/source_mark.h"

namespace krdc::workflow {

namespace {

SourceMark at(const std::string& file, const YAML::Mark& m) {
  if (m.line < 0) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

// Line and column (1-based, columns in bytes as yaml-cpp counts them) of a byte offset.
SourceMark at_offset(const std::string& file, const std::string& text, size_t offset) {
  SourceMark m{file, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++m.line;
      m.column = 1;
    } else {
      ++m.column;
    }
  }
  return m;
}

std::string shown(const std::string& s) {
  std::string out = s.size() > 60 ? s.substr(0, 57) + "..." : s;
  if (invalid_utf8_at(out)) out = "(not UTF-8)";
  return "\"" + out + "\"";
}

std::optional<size_t> control_char_at(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return i;
  }
  return std::nullopt;
}

// One open mapping or sequence, and where it sits in its parent (for messages).
struct Frame {
  bool is_map = false;
  std::string key;      // its key in the parent mapping ("" for the root or a list item)
  long index = -1;      // its index in the parent list (-1 otherwise)
  std::string name;     // its `name:` value once seen (steps, app params)
  // mappings: keys seen so far; whether the next node is a key, and the key being filled
  std::map<std::string, YAML::Mark> keys;
  bool expect_key = true;
  std::string current_key;
  long items = 0;  // sequences: items seen so far
};

class Guard : public YAML::EventHandler {
 public:
  Guard(const std::string& file, const YamlLimits& limits) : file_(file), limits_(limits) {}

  int documents = 0;
  // A byte the text check refused (invalid UTF-8, a control character): the pass goes on up to
  // it only to say where it is ("in spec.steps[0].env.X (step "a")"), then stops there.
  std::optional<size_t> bad_at;
  std::string bad_context;

  void OnDocumentStart(const YAML::Mark& mark) override {
    note(mark, false);
    if (++documents > 1) {
      throw invalid_at(at(file_, mark), "a second YAML document: a krdc file holds exactly one",
                       "remove the `---` line and what follows, or put it in its own file");
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    note(mark, !is_key());
    if (is_key()) {
      throw invalid_at(at(file_, mark), fmt::format("an empty key {}", where()), "keys must be plain strings");
    }
    value_done();
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    note(mark, !is_key());
    throw invalid_at(at(file_, mark), fmt::format("YAML alias {}: aliases (*name, <<: *name) are not allowed in krdc files",
                                                  where(!is_key())),
                     "write the value out where it is used");
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string& value) override {
    note(mark, !is_key());
    if (auto bad = invalid_utf8_at(value)) {
      throw invalid_at(at(file_, mark), fmt::format("a string {} is not valid UTF-8 (byte {} of it)",
                                                    where(!is_key()), *bad + 1));
    }
    if (value.find('\0') != std::string::npos) {
      throw invalid_at(at(file_, mark), fmt::format("a string {} holds a NUL character (\\0)", where(!is_key())));
    }
    if (is_key()) {
      Frame& map = stack_.back();
      auto [it, inserted] = map.keys.emplace(value, mark);
      if (!inserted) {
        throw invalid_at(at(file_, mark),
                         fmt::format("duplicate key {} {}; the first is at {}:{}", shown(value), where(),
                                     it->second.line + 1, it->second.column + 1),
                         "each key may appear once in a mapping: remove or merge one of them");
      }
      map.current_key = value;
      map.expect_key = false;
      return;
    }
    if (!stack_.empty() && stack_.back().is_map && stack_.back().current_key == "name") stack_.back().name = value;
    value_done();
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark, true);
  }
  void OnMapEnd() override { close(); }

 private:
  // Before each event: remember the context of the last node that starts at or before the bad
  // byte; stop at the first node after it.
  void note(const YAML::Mark& mark, bool value) {
    if (!bad_at || mark.pos < 0) return;
    if (static_cast<size_t>(mark.pos) > *bad_at) throw Stop{};
    bad_context = where(value);
  }

 public:
  struct Stop {};

 private:
  bool is_key() const { return !stack_.empty() && stack_.back().is_map && stack_.back().expect_key; }

  void open(const YAML::Mark& mark, bool is_map) {
    note(mark, !is_key());
    if (is_key()) {
      throw invalid_at(at(file_, mark), fmt::format("a {} used as a key {}", is_map ? "mapping" : "list", where()),
                       "keys must be plain strings");
    }
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      throw invalid_at(at(file_, mark), fmt::format("nesting deeper than {} levels {}", limits_.max_depth, where(true)));
    }
    Frame f;
    f.is_map = is_map;
    if (!stack_.empty()) {
      if (stack_.back().is_map) f.key = stack_.back().current_key;
      else f.index = stack_.back().items;
    }
    stack_.push_back(std::move(f));
  }

  void close() {
    stack_.pop_back();
    value_done();
  }

  void value_done() {
    if (stack_.empty()) return;
    Frame& top = stack_.back();
    if (top.is_map) top.expect_key = true;
    else ++top.items;
  }

  // "in spec.steps[1].params (step "fetch")", "at the top level"; with `value`, the path goes on
  // to the node being read (the current key or list index).
  std::string where(bool value = false) const {
    std::string path;
    std::string step;
    for (size_t i = 1; i < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      if (f.index >= 0) {
        path += fmt::format("[{}]", f.index);
        if (stack_[i - 1].key == "steps" && !f.name.empty()) step = f.name;
      } else {
        path += (path.empty() ? "" : ".") + f.key;
      }
    }
    if (value && !stack_.empty()) {
      const Frame& top = stack_.back();
      if (top.is_map) path += (path.empty() ? "" : ".") + top.current_key;
      else path += fmt::format("[{}]", top.items);
    }
    if (path.empty()) return "at the top level";
    if (path.size() > 80) path = path.substr(0, 77) + "...";  // deep nesting
    return step.empty() ? "in " + path : fmt::format("in {} (step {})", path, shown(step));
  }

  const std::string& file_;
  const YamlLimits& limits_;
  std::vector<Frame> stack_;
};

}  // namespace

std::optional<size_t> invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c == 0xED) { len = 3; hi = 0x9F; }  // no UTF-16 surrogates
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }  // nothing above U+10FFFF
    else return i;
    if (i + len > n) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return i;
    }
    i += len;
  }
  return std::nullopt;
}

void guard_yaml(const std::string& text, const std::string& file, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw InvalidInput(fmt::format("{}: {} bytes is more than a krdc file may hold ({} bytes)", file, text.size(),
                                   limits.max_bytes));
  }
  const auto bad_utf8 = invalid_utf8_at(text);
  const auto control = control_char_at(text);
  Guard guard(file, limits);
  if (bad_utf8 || control) guard.bad_at = std::min(bad_utf8.value_or(text.size()), control.value_or(text.size()));
  std::istringstream in(text);
  std::optional<YAML::Exception> syntax;
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const Guard::Stop&) {
  } catch (const YAML::Exception& e) {
    syntax = e;
  } catch (const InvalidInput&) {
    if (!guard.bad_at) throw;  // a bad byte comes first, whatever the parser made of it
  }
  if (guard.bad_at) {
    const size_t at_byte = *guard.bad_at;
    const auto byte = static_cast<unsigned char>(text[at_byte]);
    const std::string near = guard.bad_context.empty() ? "" : " near " + guard.bad_context.substr(3);
    if (bad_utf8 && *bad_utf8 == at_byte) {
      throw invalid_at(at_offset(file, text, at_byte),
                       fmt::format("invalid UTF-8 (byte 0x{:02x}){}: krdc files are UTF-8 text", byte, near),
                       "re-save the file as UTF-8");
    }
    throw invalid_at(at_offset(file, text, at_byte), fmt::format("control character 0x{:02x}{}", byte, near),
                     "write it as an escape in a double-quoted string, or remove it");
  }
  if (syntax) {
    throw invalid_at(at(file, syntax->mark), fmt::format("YAML syntax error: {}", syntax->msg),
                     "check the indentation and quoting around that position");
  }
}

}  // namespace krdc::workflow
