#pragma once
// The parsed template: jinja2's node types, reduced to what rendering needs.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace ember::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using Body = std::vector<Stmt>;

enum class ExprKind : uint8_t {
  Const,     // value
  Name,      // name
  List,      // args
  Tuple,     // args
  Dict,      // args: key0, value0, key1, value1, …
  Getattr,   // a.name
  Getitem,   // a[b]
  Slice,     // a:b:c inside [], each may be null
  Call,      // a(args, kwargs, *dyn_args, **dyn_kwargs)
  Filter,    // a|name(args…); a is null in {% filter %} and {% set x | f %}
  Test,      // a is name(args…)
  Neg,
  Pos,
  Not,
  And,
  Or,
  Binary,    // a op b
  Concat,    // args joined with ~
  Compare,   // args[0] ops[0] args[1] ops[1] args[2] …
  CondExpr,  // a if b else c (c may be null)
};

enum class BinOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow };
enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct Expr {
  ExprKind kind;
  int line = 0;
  Value value;
  std::string name;
  BinOp op = BinOp::Add;
  std::vector<CmpOp> cmp_ops;
  ExprPtr a, b, c;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args, dyn_kwargs;
  // Filters and tests: jinja2 checks names when compiling, except inside
  // {% if %} blocks, where an unknown name fails only when evaluated.
  bool soft = false;
  int depth = 1;  // of the tree below, bounded by the parser
};

/// An assignment target: a name, a tuple of targets, or namespace.attr.
struct Target {
  enum class Kind : uint8_t { Name, Tuple, NsAttr } kind = Kind::Name;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  Body body;
  bool catch_varargs = false;  // the body reads `varargs`
  bool catch_kwargs = false;   // the body reads `kwargs`
  bool caller = false;         // the body reads `caller`
  int line = 0;
  std::vector<std::string> fresh;  // see Stmt::fresh
};

enum class StmtKind : uint8_t {
  Text,         // text
  Output,       // {{ expr }}
  If,           // branches, else_body
  For,          // target in expr [if cond] body else else_body
  Set,          // target = expr
  SetBlock,     // target = rendered body, through filter expr when set
  Macro,        // macro
  CallBlock,    // {% call(params) expr %}: macro is the caller
  FilterBlock,  // expr (a Filter chain with a null input) over body
  With,         // targets = values, then body
  Scope,        // body in a new scope ({% block %}, {% generation %})
  Break,
  Continue,
  Fail,         // raises TypeError(text) when run (include/import/extends without a loader)
};

struct Stmt {
  explicit Stmt(StmtKind k, int l = 0) : kind(k), line(l) {}
  StmtKind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  Target target;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  bool recursive = false;
  std::shared_ptr<MacroDef> macro;
  std::vector<Target> targets;
  std::vector<ExprPtr> values;
  // Names jinja2's compiler makes local to the frame this statement's body
  // runs in and starts as undefined (assigned there before any read), hiding
  // outer values until assigned; fresh_else is the same for a for's else body.
  std::vector<std::string> fresh, fresh_else;
};

struct Template {
  Body body;
  std::vector<std::string> fresh;  // see Stmt::fresh, for the top level
};

/// Fills the fresh lists, reproducing jinja2's symbol analysis (idtracking.py).
void analyze_scopes(Template& t);
/// Replaces constant expressions by their values, as jinja2's optimizer does.
void fold_constants(Template& t);

}  // namespace ember::jinja
