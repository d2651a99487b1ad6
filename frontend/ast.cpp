#include "frontend/ast.h"

namespace ved::ast {

std::string dotted_name(const std::vector<Identifier>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += ".";
    out += path[i].name;
  }
  return out;
}

const char* unary_op_spelling(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "-";
    case UnaryOp::Not: return "!";
  }
  return "?";
}

const char* binary_op_spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Rem: return "%";
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Coalesce: return "??";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::And: return "&&";
    case BinaryOp::Or: return "||";
  }
  return "?";
}

bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::Eq:
    case BinaryOp::Ne: return true;
    default: return false;
  }
}

const char* assign_op_spelling(AssignOp op) {
  switch (op) {
    case AssignOp::Set: return "=";
    case AssignOp::Add: return "+=";
    case AssignOp::Sub: return "-=";
    case AssignOp::Mul: return "*=";
  }
  return "?";
}

std::string TypeExpr::to_string() const {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += ".";
    out += path[i].name;
  }
  if (version) out += "@" + std::to_string(*version);
  if (!args.empty()) {
    out += "<";
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) out += ", ";
      out += args[i].to_string();
    }
    out += ">";
  }
  if (optional) out += "?";
  return out;
}

}  // namespace ved::ast
