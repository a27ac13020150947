// jinja2's optimizer evaluates constant expressions while compiling and
// renders a {{ }} whose whole expression is constant right away. That is
// visible: it goes through the sandbox's getitem, so `{{ none[1:] }}` prints
// nothing where slicing a variable holding None raises. This pass repeats it.
#include "chat/jinja/interpreter.h"

namespace ember::jinja {

namespace {

// nodes.Const.from_untrusted accepts only values with a literal repr.
bool has_safe_repr(const Value& v) {
  switch (v.kind()) {
    case Kind::None:
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
    case Kind::String: return true;
    case Kind::List:
    case Kind::Tuple:
      if (v.is_range()) return true;
      if (v.tag() != Tag::None) return false;
      for (const Value& x : v.items())
        if (!has_safe_repr(x)) return false;
      return true;
    case Kind::Dict:
      for (const auto& [k, x] : v.dict_data().entries())
        if (!has_safe_repr(k) || !has_safe_repr(x)) return false;
      return true;
    default: return false;
  }
}

class Folder {
 public:
  Folder() : interp_(options_) {}

  // Bottom-up, as jinja2's NodeTransformer: children first, then the node.
  void expr(ExprPtr& e) {
    if (!e) return;
    expr(e->a);
    expr(e->b);
    expr(e->c);
    for (auto& x : e->args) expr(x);
    for (auto& kw : e->kwargs) expr(kw.second);
    expr(e->dyn_args);
    expr(e->dyn_kwargs);
    if (e->kind == ExprKind::Const || e->kind == ExprKind::Name || e->kind == ExprKind::Slice ||
        e->kind == ExprKind::Call || (e->kind == ExprKind::Filter && !e->a))
      return;
    std::optional<Value> v = interp_.fold(*e);
    if (!v || !has_safe_repr(*v)) return;
    auto c = std::make_unique<Expr>();
    c->kind = ExprKind::Const;
    c->line = e->line;
    c->value = std::move(*v);
    e = std::move(c);
  }

  void body(Body& b) {
    for (Stmt& s : b) {
      expr(s.expr);
      expr(s.cond);
      for (auto& [c, inner] : s.branches) {
        expr(c);
        body(inner);
      }
      body(s.body);
      body(s.else_body);
      for (auto& v : s.values) expr(v);
      if (s.macro) {
        for (auto& d : s.macro->defaults) expr(d);
        body(s.macro->body);
      }
      // A constant {{ }} is rendered now, whatever it is (Undefined prints nothing).
      if (s.kind == StmtKind::Output) {
        if (std::optional<Value> v = interp_.fold(*s.expr)) {
          s.kind = StmtKind::Text;
          s.text = to_str(*v);
          s.expr.reset();
        }
      }
    }
  }

 private:
  RenderOptions options_;
  Interpreter interp_;
};

}  // namespace

void fold_constants(Template& t) {
  Folder f;
  f.body(t.body);
}

}  // namespace ember::jinja
