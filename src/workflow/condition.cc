#include "krdc/workflow/condition.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>

#include "krdc/workflow/scalar_text.h"

namespace krdc::workflow {

// One node of the parsed expression: a literal, a reference, `!x`, or a binary operator.
struct Condition::Node {
  enum class Kind { kLiteral, kReference, kNot, kAnd, kOr, kCompare };
  Kind kind = Kind::kLiteral;
  nlohmann::json literal;
  Reference ref;
  std::string op;  // kCompare: == != < <= > >=
  std::shared_ptr<const Node> left, right;
};

namespace {

using NodePtr = std::shared_ptr<const Condition::Node>;
using Node = Condition::Node;

constexpr int kMaxDepth = 64;  // nesting bound: a hostile `((((…` must not exhaust the stack
// Length bound: `a && a && …` builds a chain as deep as it is long (evaluated and destroyed
// recursively), so the count of tokens is bounded too.
constexpr size_t kMaxTokens = 1000;

struct Token {
  enum class Kind { kEnd, kOp, kWord, kString, kNumber } kind = Kind::kEnd;
  std::string text;
  size_t column = 0;  // 1-based, in the expression
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    Token t;
    t.column = i + 1;
    if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      if (end == std::string::npos) throw std::invalid_argument(fmt::format("at column {}: unterminated string", i + 1));
      t.kind = Token::Kind::kString;
      t.text = s.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t end = i + 1;
      while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) ++end;
      t.kind = Token::Kind::kNumber;
      t.text = s.substr(i, end - i);
      i = end;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      while (end < s.size() && is_word_char(s[end])) ++end;
      t.kind = Token::Kind::kWord;
      t.text = s.substr(i, end - i);
      i = end;
    } else {
      static const char* const kOps[] = {"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")"};
      for (const char* op : kOps) {
        if (s.compare(i, std::char_traits<char>::length(op), op) == 0) {
          t.kind = Token::Kind::kOp;
          t.text = op;
          break;
        }
      }
      if (t.kind != Token::Kind::kOp) {
        throw std::invalid_argument(fmt::format("at column {}: unexpected \"{}\"", i + 1, std::string(1, c)));
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
    if (out.size() > kMaxTokens) {
      throw std::invalid_argument(fmt::format("longer than {} operands and operators: split the condition", kMaxTokens));
    }
  }
  out.push_back(Token{Token::Kind::kEnd, "", s.size() + 1});
  return out;
}

// Recursive descent, lowest precedence first: or → and → not → comparison → operand.
class Parser {
 public:
  Parser(std::vector<Token> tokens, std::vector<Reference>& refs) : tokens_(std::move(tokens)), refs_(refs) {}

  NodePtr parse() {
    NodePtr root = parse_or(0);
    if (peek().kind != Token::Kind::kEnd) fail(peek(), "expected && or || or the end");
    return root;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool accept(const char* op) {
    if (peek().kind == Token::Kind::kOp && peek().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] static void fail(const Token& t, const std::string& what) {
    const std::string found = t.kind == Token::Kind::kEnd ? "the end" : fmt::format("\"{}\"", t.text);
    throw std::invalid_argument(fmt::format("at column {}: {}, found {}", t.column, what, found));
  }
  void deeper(int depth) const {
    if (depth > kMaxDepth) throw std::invalid_argument(fmt::format("nested deeper than {} levels", kMaxDepth));
  }

  static NodePtr binary(Node::Kind kind, std::string op, NodePtr left, NodePtr right) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->op = std::move(op);
    n->left = std::move(left);
    n->right = std::move(right);
    return n;
  }

  NodePtr parse_or(int depth) {
    deeper(depth);
    NodePtr left = parse_and(depth);
    while (accept("||")) left = binary(Node::Kind::kOr, "||", left, parse_and(depth));
    return left;
  }
  NodePtr parse_and(int depth) {
    NodePtr left = parse_not(depth);
    while (accept("&&")) left = binary(Node::Kind::kAnd, "&&", left, parse_not(depth));
    return left;
  }
  NodePtr parse_not(int depth) {
    if (accept("!")) {
      deeper(depth + 1);
      return binary(Node::Kind::kNot, "!", parse_not(depth + 1), nullptr);
    }
    return parse_comparison(depth);
  }
  NodePtr parse_comparison(int depth) {
    NodePtr left = parse_operand(depth);
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (accept(op)) return binary(Node::Kind::kCompare, op, left, parse_operand(depth));
    }
    return left;
  }
  NodePtr parse_operand(int depth) {
    if (accept("(")) {
      NodePtr inner = parse_or(depth + 1);
      if (!accept(")")) fail(peek(), "expected )");
      return inner;
    }
    const Token t = peek();
    auto n = std::make_shared<Node>();
    switch (t.kind) {
      case Token::Kind::kString: n->literal = t.text; break;
      case Token::Kind::kNumber: n->literal = number(t); break;
      case Token::Kind::kWord:
        if (t.text == "true" || t.text == "false") {
          n->literal = t.text == "true";
        } else if (t.text == "null") {
          n->literal = nullptr;
        } else {
          n->kind = Node::Kind::kReference;
          n->ref = reference(t);
        }
        break;
      default: fail(t, "expected a value (params.NAME, steps.NAME.outputs.KEY, a number, 'text', true, false)");
    }
    ++pos_;
    return n;
  }

  static nlohmann::json number(const Token& t) {
    const nlohmann::json j = nlohmann::json::parse(t.text, nullptr, false);
    if (!j.is_number()) fail(t, "expected a number");
    return j;
  }
  Reference reference(const Token& t) {
    Reference ref;
    try {
      ref = parse_reference(t.text);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("at column {}: {}", t.column, e.what()));
    }
    if (ref.kind == Reference::Kind::kItem) {
      fail(t, "a condition is decided once for the whole step, so it cannot use item; expected params or steps");
    }
    refs_.push_back(ref);
    return ref;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<Reference>& refs_;
};

// "abc" → "abc", a bare expression; "${{ abc }}" → " abc ".
std::string expression_of(const std::string& text) {
  const size_t b = text.find_first_not_of(" \t");
  const size_t e = text.find_last_not_of(" \t");
  if (b == std::string::npos) throw std::invalid_argument("the condition is empty");
  const std::string t = text.substr(b, e - b + 1);
  if (t.rfind("${{", 0) == 0) {
    if (t.size() < 5 || t.compare(t.size() - 2, 2, "}}") != 0) {
      throw std::invalid_argument("unterminated \"${{\": write the whole condition inside one ${{ }}");
    }
    const std::string inner = t.substr(3, t.size() - 5);
    if (inner.find("${{") != std::string::npos) {
      throw std::invalid_argument("write the whole condition inside one ${{ }}, e.g. ${{ params.a && params.b }}");
    }
    return inner;
  }
  return t;
}

std::string describe(const nlohmann::json& v) {
  const std::string text = v.dump();
  return fmt::format("{} {}", v.type_name(), text.size() > 40 ? text.substr(0, 40) + "…" : text);
}

std::optional<double> as_number(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  double d = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return d;
}

std::optional<bool> as_bool(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "false")) return v == "true";
  return std::nullopt;
}

// Equality the way a person reads it: 3 == "3" (values from -p and outputs often arrive as
// text), true == "true"; otherwise the JSON values must be equal.
bool is_integer(const nlohmann::json& v) {
  return v.is_number_integer() || (v.is_string() && is_int_text(v.get_ref<const std::string&>()));
}

bool loosely_equal(const nlohmann::json& a, const nlohmann::json& b) {
  // Integers by their digits, at any length (outputs keep big integers as digit text).
  if ((a.is_number() || b.is_number()) && is_integer(a) && is_integer(b)) return same_number(a, b, NumberKind::kInt);
  if (a.is_number() || b.is_number()) {
    const auto x = as_number(a), y = as_number(b);
    return x && y && *x == *y;
  }
  if (a.is_boolean() || b.is_boolean()) {
    const auto x = as_bool(a), y = as_bool(b);
    return x && y && *x == *y;
  }
  return a == b;
}

class Evaluator {
 public:
  explicit Evaluator(const Resolver& resolve) : resolve_(resolve) {}

  nlohmann::json value(const Node& n) const {
    switch (n.kind) {
      case Node::Kind::kLiteral: return n.literal;
      case Node::Kind::kReference: {
        auto v = resolve_(n.ref);
        if (!v) throw std::invalid_argument(fmt::format("{} has no value", n.ref.text));
        return *v;
      }
      case Node::Kind::kNot: return !truth(*n.left);
      case Node::Kind::kAnd: return truth(*n.left) && truth(*n.right);
      case Node::Kind::kOr: return truth(*n.left) || truth(*n.right);
      case Node::Kind::kCompare: return compare(n);
    }
    return nullptr;
  }

  bool truth(const Node& n) const {
    const nlohmann::json v = value(n);
    if (auto b = as_bool(v)) return *b;
    const std::string what = n.kind == Node::Kind::kReference ? n.ref.text : "a value";
    throw std::invalid_argument(fmt::format("{} is {}, not true or false: compare it, e.g. {} == 'yes'", what,
                                            describe(v), n.kind == Node::Kind::kReference ? n.ref.text : "x"));
  }

 private:
  bool compare(const Node& n) const {
    const nlohmann::json a = value(*n.left), b = value(*n.right);
    if (n.op == "==") return loosely_equal(a, b);
    if (n.op == "!=") return !loosely_equal(a, b);
    int order = 0;
    if (a.is_number() || b.is_number()) {
      const auto x = as_number(a), y = as_number(b);
      if (!x || !y) throw mismatch(n, a, b);
      order = *x < *y ? -1 : (*x > *y ? 1 : 0);
    } else if (a.is_string() && b.is_string()) {
      const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      order = c < 0 ? -1 : (c > 0 ? 1 : 0);
    } else {
      throw mismatch(n, a, b);
    }
    if (n.op == "<") return order < 0;
    if (n.op == "<=") return order <= 0;
    if (n.op == ">") return order > 0;
    return order >= 0;
  }
  static std::invalid_argument mismatch(const Node& n, const nlohmann::json& a, const nlohmann::json& b) {
    return std::invalid_argument(
        fmt::format("cannot order {} {} {}: compare numbers with numbers, text with text", describe(a), n.op, describe(b)));
  }

  const Resolver& resolve_;
};

}  // namespace

Condition Condition::parse(const std::string& text) {
  Condition c;
  c.text_ = text;
  c.root_ = Parser(tokenize(expression_of(text)), c.references_).parse();
  return c;
}

bool Condition::evaluate(const Resolver& resolve) const { return Evaluator(resolve).truth(*root_); }

}  // namespace krdc::workflow
