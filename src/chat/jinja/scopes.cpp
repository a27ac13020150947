// jinja2 compiles every frame (the template, a loop body, a macro, a block)
// to Python locals, deciding per name how the local starts: from the frame
// around it, from the context, or as "missing" when the frame assigns the
// name before reading it. The last case is visible: a loop or macro that runs
// before a later top-level {% set x %} sees x undefined, even if the context
// has an x. This pass repeats that analysis (jinja2's idtracking.py) so the
// interpreter can start those names as undefined.
#include <map>
#include <set>

#include "chat/jinja/ast.h"

namespace ember::jinja {

namespace {

enum class Load { Parameter, Resolve, Alias, Undefined };

struct Symbols {
  const Symbols* parent = nullptr;
  std::map<std::string, Load> loads;
  std::set<std::string> stores;

  bool find_ref(const std::string& name) const {
    for (const Symbols* s = this; s; s = s->parent)
      if (s->loads.count(name)) return true;
    return false;
  }
  bool parent_has(const std::string& name) const { return parent && parent->find_ref(name); }
  void load(const std::string& name) {
    if (!find_ref(name)) loads[name] = Load::Resolve;
  }
  void store(const std::string& name) {
    stores.insert(name);
    if (loads.count(name)) return;
    loads[name] = parent_has(name) ? Load::Alias : Load::Undefined;
  }
  void declare_parameter(const std::string& name) {
    stores.insert(name);
    loads[name] = Load::Parameter;
  }
  // An if's branches: a name first assigned inside one is read from outside
  // until then (jinja2 3.1 does not check whether every branch assigns it).
  void branch_update(const std::vector<Symbols>& branches) {
    std::set<std::string> new_stores;
    for (const Symbols& b : branches)
      for (const auto& name : b.stores)
        if (!stores.count(name)) new_stores.insert(name);
    for (const Symbols& b : branches) {
      for (const auto& [name, how] : b.loads) loads[name] = how;
      stores.insert(b.stores.begin(), b.stores.end());
    }
    for (const auto& name : new_stores) loads[name] = parent_has(name) ? Load::Alias : Load::Resolve;
  }
  std::vector<std::string> fresh() const {
    std::vector<std::string> out;
    for (const auto& [name, how] : loads)
      if (how == Load::Undefined) out.push_back(name);
    return out;
  }
};

void visit_expr(const Expr* e, Symbols& s) {
  if (!e) return;
  if (e->kind == ExprKind::Name) s.load(e->name);
  visit_expr(e->a.get(), s);
  visit_expr(e->b.get(), s);
  visit_expr(e->c.get(), s);
  for (const auto& x : e->args) visit_expr(x.get(), s);
  for (const auto& kw : e->kwargs) visit_expr(kw.second.get(), s);
  visit_expr(e->dyn_args.get(), s);
  visit_expr(e->dyn_kwargs.get(), s);
}

void visit_target(const Target& t, Symbols& s) {
  switch (t.kind) {
    case Target::Kind::Name: s.store(t.name); break;
    case Target::Kind::Tuple:
      for (const auto& item : t.items) visit_target(item, s);
      break;
    case Target::Kind::NsAttr: s.load(t.name); break;
  }
}

void declare_target(const Target& t, Symbols& s) {
  if (t.kind == Target::Kind::Name) s.declare_parameter(t.name);
  if (t.kind == Target::Kind::Tuple)
    for (const auto& item : t.items) declare_target(item, s);
}

void visit_body(const Body& body, Symbols& s);

// jinja2's If node: test, body, elif_ (a list of If nodes), else_.
void visit_if(const Stmt& st, size_t branch, Symbols& s) {
  visit_expr(st.branches[branch].first.get(), s);
  std::vector<Symbols> parts(3, s);
  visit_body(st.branches[branch].second, parts[0]);
  if (branch == 0) {
    for (size_t k = 1; k < st.branches.size(); ++k) visit_if(st, k, parts[1]);
    visit_body(st.else_body, parts[2]);
  }
  s.branch_update(parts);
}

// The statements of one frame, in order; bodies that get frames of their own
// are not entered (analyze_frames does them).
void visit_body(const Body& body, Symbols& s) {
  for (const Stmt& st : body) {
    switch (st.kind) {
      case StmtKind::Output: visit_expr(st.expr.get(), s); break;
      case StmtKind::If: visit_if(st, 0, s); break;
      case StmtKind::For: visit_expr(st.expr.get(), s); break;
      case StmtKind::Set:
        visit_expr(st.expr.get(), s);
        visit_target(st.target, s);
        break;
      case StmtKind::SetBlock: visit_target(st.target, s); break;
      case StmtKind::Macro: s.store(st.target.name); break;
      case StmtKind::CallBlock: visit_expr(st.expr.get(), s); break;
      case StmtKind::FilterBlock: visit_expr(st.expr.get(), s); break;
      case StmtKind::With:
        for (const auto& v : st.values) visit_expr(v.get(), s);
        break;
      default: break;
    }
  }
}

void analyze_frames(Body& body, const Symbols& frame);

// A body that runs in a frame of its own: its symbols, then its children.
std::vector<std::string> analyze_frame(Body& body, const Symbols* parent, const std::vector<Target>& params,
                                       const std::vector<std::string>& param_names) {
  Symbols s;
  s.parent = parent;
  for (const auto& t : params) declare_target(t, s);
  for (const auto& n : param_names) s.declare_parameter(n);
  visit_body(body, s);
  analyze_frames(body, s);
  return s.fresh();
}

void analyze_macro(MacroDef& m, const Symbols& parent) {
  std::vector<std::string> names = m.params;
  if (m.catch_varargs) names.push_back("varargs");
  if (m.catch_kwargs) names.push_back("kwargs");
  if (m.caller) names.push_back("caller");
  m.fresh = analyze_frame(m.body, &parent, {}, names);
}

void analyze_frames(Body& body, const Symbols& frame) {
  for (Stmt& st : body) {
    switch (st.kind) {
      case StmtKind::If:
        for (auto& [cond, b] : st.branches) analyze_frames(b, frame);
        analyze_frames(st.else_body, frame);
        break;
      case StmtKind::For:
        st.fresh = analyze_frame(st.body, &frame, {st.target}, {"loop"});
        st.fresh_else = analyze_frame(st.else_body, &frame, {}, {});
        break;
      case StmtKind::Macro:
      case StmtKind::CallBlock: analyze_macro(*st.macro, frame); break;
      case StmtKind::With: st.fresh = analyze_frame(st.body, &frame, st.targets, {}); break;
      case StmtKind::SetBlock:
      case StmtKind::FilterBlock:
      case StmtKind::Scope: st.fresh = analyze_frame(st.body, &frame, {}, {}); break;
      default: break;
    }
  }
}

}  // namespace

void analyze_scopes(Template& t) { t.fresh = analyze_frame(t.body, nullptr, {}, {}); }

}  // namespace ember::jinja
