#include "chat/jinja/parser.h"

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "chat/jinja/lexer.h"

namespace ember::jinja {

namespace {

// Deeper nesting than this is refused (a bracket costs two levels, a block
// one): each level costs a dozen C++ frames, and Python's own recursion limit
// stops jinja2 at about 75 brackets.
constexpr int kMaxNesting = 128;
constexpr int kMaxExprDepth = 200;

constexpr std::string_view kFilters[] = {
    "abs",       "attr",       "batch",  "capitalize", "center", "count",      "d",         "default",  "dictsort",
    "e",         "escape",     "filesizeformat", "first", "float", "forceescape", "format", "groupby",  "indent",
    "int",       "join",       "last",   "length",     "list",   "lower",      "items",     "map",      "min",
    "max",       "pprint",     "random", "reject",     "rejectattr", "replace", "reverse",  "round",    "safe",
    "select",    "selectattr", "slice",  "sort",       "string", "striptags",  "sum",       "title",    "trim",
    "truncate",  "unique",     "upper",  "urlencode",  "urlize", "wordcount",  "wordwrap",  "xmlattr",  "tojson"};

constexpr std::string_view kTests[] = {
    "odd",     "even",    "divisibleby", "defined", "undefined", "filter",  "test",   "none",    "boolean",
    "false",   "true",    "integer",     "float",   "lower",     "upper",   "string", "mapping", "number",
    "sequence", "iterable", "callable",  "sameas",  "escaped",   "in",      "==",     "eq",      "equalto",
    "!=",      "ne",      ">",           "gt",      "greaterthan", "ge",    ">=",     "<",       "lt",
    "lessthan", "<=",     "le"};

bool is_name(const Token& t, std::string_view v) { return t.type == Tok::Name && t.text == v; }
bool is_op(const Token& t, std::string_view v) { return t.type == Tok::Op && t.text == v; }

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::Data: return "template data / text";
    case Tok::VarBegin: return "begin of print statement";
    case Tok::VarEnd: return "end of print statement";
    case Tok::BlockBegin: return "begin of statement block";
    case Tok::BlockEnd: return "end of statement block";
    case Tok::Name: return t.text;
    case Tok::String: return "string";
    case Tok::Integer: return "integer";
    case Tok::Float: return "float";
    case Tok::Op: return t.text;
    case Tok::Eof: return "end of template";
  }
  return "?";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Template parse() {
    Template t;
    t.body = subparse({});
    return t;
  }

 private:
  // --- token stream --------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& look() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  [[noreturn]] void fail(const std::string& msg, int line = 0) const {
    throw JinjaError{"TemplateSyntaxError", msg, line ? line : cur().line};
  }
  bool skip_op(std::string_view op) {
    if (!is_op(cur(), op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(cur(), name)) return false;
    next();
    return true;
  }
  const Token& expect_op(std::string_view op) {
    if (!is_op(cur(), op)) fail_expected("'" + std::string(op) + "'");
    return next();
  }
  const Token& expect_name() {
    if (cur().type != Tok::Name) fail_expected("'name'");
    return next();
  }
  void expect_type(Tok type, std::string_view what) {
    if (cur().type != type) fail_expected(std::string(what));
    next();
  }
  [[noreturn]] void fail_expected(const std::string& what) const {
    if (cur().type == Tok::Eof) fail("unexpected end of template, expected " + what + ".");
    fail("expected token " + what + ", got '" + describe(cur()) + "'");
  }

  struct Depth {
    explicit Depth(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("template nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    }
    ~Depth() { --p_.depth_; }
    Parser& p_;
  };

  // Bodies where unknown filters fail only when run ({% if %}) and where
  // break/continue are allowed.
  struct Context {
    bool soft = false;
    bool in_loop = false;
  };
  struct WithContext {
    WithContext(Parser& p, Context c) : p_(p), saved_(p.ctx_) { p.ctx_ = c; }
    ~WithContext() { p_.ctx_ = saved_; }
    Parser& p_;
    Context saved_;
  };

  ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // Records a finished node's depth. Chains (a + b + c …, x|f|g …, a.b.c …)
  // nest without brackets, so the depth is bounded here: every pass over the
  // tree (folding, evaluation, destruction) recurses once per level.
  ExprPtr seal(ExprPtr e) {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    see(e->a);
    see(e->b);
    see(e->c);
    see(e->dyn_args);
    see(e->dyn_kwargs);
    for (const auto& x : e->args) see(x);
    for (const auto& kw : e->kwargs) see(kw.second);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth)
      fail("expression nested too deeply (more than " + std::to_string(kMaxExprDepth) + " levels)", e->line);
    return e;
  }

  // --- statements ------------------------------------------------------------------
  Body subparse(std::initializer_list<std::string_view> end_tokens) {
    Body body;
    std::optional<EndTokens> pushed;
    if (end_tokens.size() != 0) pushed.emplace(*this, end_tokens);
    while (cur().type != Tok::Eof) {
      const Token& t = cur();
      if (t.type == Tok::Data) {
        Stmt s{StmtKind::Text};
        s.line = t.line;
        s.text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::VarBegin) {
        next();
        Stmt s{StmtKind::Output};
        s.line = cur().line;
        s.expr = parse_tuple(false, true, {}, false);
        body.push_back(std::move(s));
        expect_type(Tok::VarEnd, "'end of print statement'");
      } else if (t.type == Tok::BlockBegin) {
        next();
        if (cur().type == Tok::Name &&
            std::find(end_tokens.begin(), end_tokens.end(), std::string_view(cur().text)) != end_tokens.end())
          return body;
        parse_statement(body);
        expect_type(Tok::BlockEnd, "'end of statement block'");
      } else {
        fail("unexpected '" + describe(t) + "'");
      }
    }
    if (end_tokens.size() != 0) fail_unknown_tag(nullptr, cur().line);
    return body;
  }

  // jinja2's message for an unknown tag (name) or the end of the template (nullptr).
  [[noreturn]] void fail_unknown_tag(const std::string* name, int line) const {
    std::string msg = name ? "Encountered unknown tag '" + *name + "'." : "Unexpected end of template.";
    if (!end_stack_.empty()) {
      std::string looking;
      for (const auto& e : end_stack_.back()) looking += (looking.empty() ? "'" : " or '") + e + "'";
      bool expected = false;
      for (const auto& tokens : end_stack_)
        for (const auto& e : tokens) expected = expected || (name && e == *name);
      if (expected)
        msg += " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for " +
               looking + ".";
      else
        msg += " Jinja was looking for the following tags: " + looking + ".";
    }
    // For an unknown tag, the innermost entry is that tag itself: jinja2 names the one around it.
    const size_t open = tag_stack_.size() - (name && !tag_stack_.empty() ? 1 : 0);
    if (open > 0) msg += " The innermost block that needs to be closed is '" + tag_stack_[open - 1] + "'.";
    fail(msg, line);
  }

  struct EndTokens {
    EndTokens(Parser& p, std::initializer_list<std::string_view> tokens) : p_(p) {
      p_.end_stack_.emplace_back(tokens.begin(), tokens.end());
    }
    ~EndTokens() { p_.end_stack_.pop_back(); }
    Parser& p_;
  };
  struct TagName {
    TagName(Parser& p, std::string tag) : p_(p) { p_.tag_stack_.push_back(std::move(tag)); }
    ~TagName() { p_.tag_stack_.pop_back(); }
    Parser& p_;
  };

  // The body of a block statement up to one of end_tokens (left current).
  Body parse_statements(std::initializer_list<std::string_view> end_tokens, bool drop_needle) {
    Depth d(*this);
    skip_op(":");
    expect_type(Tok::BlockEnd, "'end of statement block'");
    Body body = subparse(end_tokens);
    if (drop_needle) next();
    return body;
  }

  void parse_statement(Body& out) {
    const Token& t = cur();
    if (t.type != Tok::Name) fail("tag name expected");
    const std::string tag = t.text;
    int line = t.line;
    TagName current_tag(*this, tag);
    if (tag == "if") return out.push_back(parse_if());
    if (tag == "for") return out.push_back(parse_for());
    if (tag == "set") return out.push_back(parse_set());
    if (tag == "macro") return out.push_back(parse_macro());
    if (tag == "call") return out.push_back(parse_call_block());
    if (tag == "filter") return out.push_back(parse_filter_block());
    if (tag == "with") return out.push_back(parse_with());
    if (tag == "print") {
      next();
      bool first = true;
      while (cur().type != Tok::BlockEnd) {
        if (!first) expect_op(",");
        first = false;
        Stmt s{StmtKind::Output};
        s.line = line;
        s.expr = parse_expression(true);
        out.push_back(std::move(s));
      }
      return;
    }
    if (tag == "break" || tag == "continue") {
      next();
      // Python's compiler rejects it in the generated code.
      if (!ctx_.in_loop) throw JinjaError{"SyntaxError", "'" + tag + "' outside loop", line};
      Stmt s{tag == "break" ? StmtKind::Break : StmtKind::Continue};
      s.line = line;
      return out.push_back(std::move(s));
    }
    if (tag == "generation" || tag == "block") {
      // {% generation %} (transformers' AssistantTracker) renders its body
      // through a call block, so like {% block %} it is a scope of its own.
      next();
      if (tag == "block") {
        expect_name();
        skip_name("scoped");
        skip_name("required");
      }
      Stmt s{StmtKind::Scope};
      s.line = line;
      WithContext c(*this, Context{});
      s.body = parse_statements({tag == "block" ? "endblock" : "endgeneration"}, true);
      if (tag == "block" && cur().type == Tok::Name) next();
      return out.push_back(std::move(s));
    }
    if (tag == "extends" || tag == "include" || tag == "import" || tag == "from") {
      // jinja2 without a loader fails only when the tag runs.
      while (cur().type != Tok::BlockEnd && cur().type != Tok::Eof) next();
      Stmt s{StmtKind::Fail, line};
      s.text = "no loader for this environment specified";
      return out.push_back(std::move(s));
    }
    if (tag == "autoescape") throw JinjaError{"TemplateError", "'autoescape' blocks are not supported", line};
    fail_unknown_tag(&tag, line);
  }

  Stmt parse_if() {
    Stmt s{StmtKind::If};
    s.line = next().line;
    WithContext c(*this, Context{true, ctx_.in_loop});
    while (true) {
      ExprPtr cond = parse_tuple(false, false, {}, false);
      Body body = parse_statements({"elif", "else", "endif"}, false);
      s.branches.emplace_back(std::move(cond), std::move(body));
      const Token& t = next();
      if (is_name(t, "elif")) continue;
      if (is_name(t, "else")) s.else_body = parse_statements({"endif"}, true);
      break;
    }
    return s;
  }

  Stmt parse_for() {
    Stmt s{StmtKind::For};
    s.line = next().line;
    s.target = parse_assign_target(true, false, {"in"}, false);
    if (!skip_name("in")) fail_expected("'in'");
    s.expr = parse_tuple(false, false, {"recursive"}, false);
    bool outer_in_loop = ctx_.in_loop;
    WithContext c(*this, Context{false, true});
    if (skip_name("if")) s.cond = parse_expression(true);
    s.recursive = skip_name("recursive");
    s.body = parse_statements({"endfor", "else"}, false);
    if (next().text == "else") {
      // The else body runs after the loop: break/continue there belong to an outer loop.
      WithContext outer(*this, Context{false, outer_in_loop});
      s.else_body = parse_statements({"endfor"}, true);
    }
    return s;
  }

  Stmt parse_set() {
    Stmt s{StmtKind::Set};
    s.line = next().line;
    s.target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      s.expr = parse_tuple(false, true, {}, false);
      return s;
    }
    s.kind = StmtKind::SetBlock;
    // Set, filter and with blocks are inline code: break/continue there reach the loop around.
    WithContext c(*this, Context{false, ctx_.in_loop});
    s.expr = parse_filter(nullptr, false);
    s.body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(MacroDef& m) {
    expect_op("(");
    while (!is_op(cur(), ")")) {
      if (!m.params.empty()) expect_op(",");
      const Token& t = expect_name();
      check_assignable(t.text, t.line);
      m.params.push_back(t.text);
      if (skip_op("=")) {
        m.defaults.push_back(parse_expression(true));
      } else if (!m.defaults.empty()) {
        fail("non-default argument follows default argument");
      } else if (t.text == "caller") {
        throw JinjaError{"TemplateAssertionError",
                         "When defining macros or call blocks the special \"caller\" argument must be omitted or be "
                         "given a default.",
                         t.line};
      }
    }
    expect_op(")");
  }

  Stmt parse_macro() {
    Stmt s{StmtKind::Macro};
    s.line = next().line;
    auto m = std::make_shared<MacroDef>();
    m->line = s.line;
    const Token& name = expect_name();
    check_assignable(name.text, name.line);
    m->name = name.text;
    s.target.name = name.text;
    WithContext c(*this, Context{});
    parse_signature(*m);
    m->body = parse_statements({"endmacro"}, true);
    note_special_names(*m);
    s.macro = std::move(m);
    return s;
  }

  Stmt parse_call_block() {
    Stmt s{StmtKind::CallBlock};
    s.line = next().line;
    auto m = std::make_shared<MacroDef>();
    m->name = "caller";
    m->line = s.line;
    {
      WithContext c(*this, Context{});
      if (is_op(cur(), "(")) parse_signature(*m);
    }
    s.expr = parse_expression(true);
    if (s.expr->kind != ExprKind::Call) fail("expected call", s.line);
    WithContext c(*this, Context{});
    m->body = parse_statements({"endcall"}, true);
    note_special_names(*m);
    s.macro = std::move(m);
    return s;
  }

  Stmt parse_filter_block() {
    Stmt s{StmtKind::FilterBlock};
    s.line = next().line;
    WithContext c(*this, Context{false, ctx_.in_loop});
    s.expr = parse_filter(nullptr, true);
    s.body = parse_statements({"endfilter"}, true);
    return s;
  }

  Stmt parse_with() {
    Stmt s{StmtKind::With};
    s.line = next().line;
    while (cur().type != Tok::BlockEnd) {
      if (!s.targets.empty()) expect_op(",");
      s.targets.push_back(parse_assign_target(true, false, {}, false));
      expect_op("=");
      s.values.push_back(parse_expression(true));
    }
    WithContext c(*this, Context{false, ctx_.in_loop});
    s.body = parse_statements({"endwith"}, true);
    return s;
  }

  void check_assignable(const std::string& name, int line) {
    static const char* kConsts[] = {"true", "false", "none", "True", "False", "None"};
    for (const char* c : kConsts)
      if (name == c) fail("can't assign to 'const'", line);
  }

  Target to_target(const Expr& e) {
    Target t;
    switch (e.kind) {
      case ExprKind::Name:
        t.kind = Target::Kind::Name;
        t.name = e.name;
        return t;
      case ExprKind::Tuple:
        t.kind = Target::Kind::Tuple;
        for (const auto& item : e.args) t.items.push_back(to_target(*item));
        return t;
      case ExprKind::Getattr:
        if (e.a && e.a->kind == ExprKind::Name && e.soft /* marks an NSRef */) {
          t.kind = Target::Kind::NsAttr;
          t.name = e.a->name;
          t.attr = e.name;
          return t;
        }
        break;
      default: break;
    }
    std::string what = e.kind == ExprKind::Const ? "const" : e.kind == ExprKind::Getattr ? "getattr"
                     : e.kind == ExprKind::Getitem ? "getitem" : e.kind == ExprKind::Call ? "call" : "expression";
    fail("can't assign to '" + what + "'", e.line);
  }

  Target parse_assign_target(bool with_tuple, bool name_only, std::initializer_list<std::string_view> extra_end,
                             bool with_namespace) {
    if (name_only) {
      const Token& t = expect_name();
      check_assignable(t.text, t.line);
      Target target;
      target.name = t.text;
      return target;
    }
    ExprPtr e = with_tuple ? parse_tuple(true, true, extra_end, false, with_namespace) : parse_primary(with_namespace);
    return to_target(*e);
  }

  // Names read in a macro body decide whether it takes varargs, kwargs, caller.
  static void scan_expr(const Expr* e, MacroDef& m) {
    if (!e) return;
    if (e->kind == ExprKind::Name) {
      if (e->name == "varargs") m.catch_varargs = true;
      if (e->name == "kwargs") m.catch_kwargs = true;
      if (e->name == "caller") m.caller = true;
    }
    scan_expr(e->a.get(), m);
    scan_expr(e->b.get(), m);
    scan_expr(e->c.get(), m);
    scan_expr(e->dyn_args.get(), m);
    scan_expr(e->dyn_kwargs.get(), m);
    for (const auto& x : e->args) scan_expr(x.get(), m);
    for (const auto& kw : e->kwargs) scan_expr(kw.second.get(), m);
  }
  static void scan_body(const Body& body, MacroDef& m) {
    for (const Stmt& s : body) {
      scan_expr(s.expr.get(), m);
      scan_expr(s.cond.get(), m);
      for (const auto& [c, b] : s.branches) {
        scan_expr(c.get(), m);
        scan_body(b, m);
      }
      scan_body(s.body, m);
      scan_body(s.else_body, m);
      for (const auto& v : s.values) scan_expr(v.get(), m);
      if (s.macro) {
        for (const auto& d : s.macro->defaults) scan_expr(d.get(), m);
        scan_body(s.macro->body, m);
      }
    }
  }
  void note_special_names(MacroDef& m) {
    for (const auto& d : m.defaults) scan_expr(d.get(), m);
    scan_body(m.body, m);
  }

  // --- expressions -----------------------------------------------------------------
  ExprPtr parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      ExprPtr expr2 = parse_or();
      ExprPtr expr3;
      if (skip_name("else")) {
        Depth d(*this);
        expr3 = parse_condexpr();
      }
      ExprPtr e = make(ExprKind::CondExpr, line);
      e->a = std::move(expr1);
      e->b = std::move(expr2);
      e->c = std::move(expr3);
      expr1 = seal(std::move(e));
      line = cur().line;
    }
    return expr1;
  }

  ExprPtr parse_or() {
    int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or")) {
      ExprPtr e = make(ExprKind::Or, line);
      e->a = std::move(left);
      e->b = parse_and();
      left = seal(std::move(e));
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_and() {
    int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and")) {
      ExprPtr e = make(ExprKind::And, line);
      e->a = std::move(left);
      e->b = parse_not();
      left = seal(std::move(e));
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name(cur(), "not")) {
      int line = next().line;
      Depth d(*this);
      ExprPtr e = make(ExprKind::Not, line);
      e->a = parse_not();
      return seal(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr expr = parse_math1();
    ExprPtr cmp;
    while (true) {
      const Token& t = cur();
      CmpOp op;
      if (t.type == Tok::Op && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" ||
                                t.text == ">" || t.text == ">=")) {
        op = t.text == "==" ? CmpOp::Eq : t.text == "!=" ? CmpOp::Ne : t.text == "<" ? CmpOp::Lt
           : t.text == "<=" ? CmpOp::Le : t.text == ">" ? CmpOp::Gt : CmpOp::Ge;
        next();
      } else if (is_name(t, "in")) {
        op = CmpOp::In;
        next();
      } else if (is_name(t, "not") && is_name(look(), "in")) {
        op = CmpOp::NotIn;
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::Compare, line);
        cmp->args.push_back(std::move(expr));
      }
      cmp->cmp_ops.push_back(op);
      cmp->args.push_back(parse_math1());
      line = cur().line;
    }
    if (cmp) {
      cmp->line = line;
      return seal(std::move(cmp));
    }
    return expr;
  }

  ExprPtr binary(BinOp op, ExprPtr left, ExprPtr right, int line) {
    ExprPtr e = make(ExprKind::Binary, line);
    e->op = op;
    e->a = std::move(left);
    e->b = std::move(right);
    return seal(std::move(e));
  }

  ExprPtr parse_math1() {
    int line = cur().line;
    ExprPtr left = parse_concat();
    while (is_op(cur(), "+") || is_op(cur(), "-")) {
      BinOp op = next().text == "+" ? BinOp::Add : BinOp::Sub;
      left = binary(op, std::move(left), parse_concat(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_concat() {
    int line = cur().line;
    ExprPtr first = parse_math2();
    if (!is_op(cur(), "~")) return first;
    ExprPtr e = make(ExprKind::Concat, line);
    e->args.push_back(std::move(first));
    while (skip_op("~")) e->args.push_back(parse_math2());
    return seal(std::move(e));
  }

  ExprPtr parse_math2() {
    int line = cur().line;
    ExprPtr left = parse_pow();
    while (is_op(cur(), "*") || is_op(cur(), "/") || is_op(cur(), "//") || is_op(cur(), "%")) {
      const std::string& t = next().text;
      BinOp op = t == "*" ? BinOp::Mul : t == "/" ? BinOp::Div : t == "//" ? BinOp::FloorDiv : BinOp::Mod;
      left = binary(op, std::move(left), parse_pow(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_pow() {
    int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) {
      left = binary(BinOp::Pow, std::move(left), parse_unary(true), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Depth d(*this);
    const Token& t = cur();
    int line = t.line;
    ExprPtr node;
    if (is_op(t, "-") || is_op(t, "+")) {
      ExprKind kind = t.text == "-" ? ExprKind::Neg : ExprKind::Pos;
      next();
      node = make(kind, line);
      node->a = parse_unary(false);
      node = seal(std::move(node));
    } else {
      node = parse_primary(false);
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary(bool with_namespace) {
    Depth d(*this);
    const Token& t = cur();
    int line = t.line;
    if (t.type == Tok::Name) {
      next();
      ExprPtr e = make(ExprKind::Const, line);
      if (t.text == "true" || t.text == "True") {
        e->value = Value::boolean(true);
      } else if (t.text == "false" || t.text == "False") {
        e->value = Value::boolean(false);
      } else if (t.text == "none" || t.text == "None") {
        e->value = Value::none();
      } else if (with_namespace && is_op(cur(), ".")) {
        next();
        const Token& attr = expect_name();
        e->kind = ExprKind::Getattr;
        e->a = make(ExprKind::Name, line);
        e->a->name = t.text;
        e->name = attr.text;
        e->soft = true;  // marks an NSRef (namespace.attr as an assignment target)
      } else {
        e->kind = ExprKind::Name;
        e->name = t.text;
      }
      return e;
    }
    if (t.type == Tok::String) {
      std::string s;
      while (cur().type == Tok::String) s += next().text;
      ExprPtr e = make(ExprKind::Const, line);
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.type == Tok::Integer || t.type == Tok::Float) {
      next();
      ExprPtr e = make(ExprKind::Const, line);
      e->value = t.type == Tok::Integer ? Value::integer(t.int_value) : Value::real(t.float_value);
      return e;
    }
    if (is_op(t, "(")) {
      next();
      ExprPtr e = parse_tuple(false, true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op(t, "[")) return parse_list();
    if (is_op(t, "{")) return parse_dict();
    if (t.type == Tok::Eof) fail("unexpected end of template");
    fail("unexpected '" + describe(t) + "'");
  }

  bool is_tuple_end(std::initializer_list<std::string_view> extra_end) const {
    const Token& t = cur();
    if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || is_op(t, ")")) return true;
    for (auto e : extra_end)
      if (is_name(t, e)) return true;
    return false;
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::initializer_list<std::string_view> extra_end,
                      bool explicit_parentheses, bool with_namespace = false) {
    int line = cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
      if (is_op(cur(), ",")) {
        is_tuple = true;
      } else {
        break;
      }
      line = cur().line;
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parentheses) {
        if (cur().type == Tok::Eof) fail("unexpected end of template");
        fail("Expected an expression, got '" + describe(cur()) + "'");
      }
    }
    ExprPtr e = make(ExprKind::Tuple, line);
    e->args = std::move(args);
    return seal(std::move(e));
  }

  ExprPtr parse_list() {
    ExprPtr e = make(ExprKind::List, expect_op("[").line);
    while (!is_op(cur(), "]")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op(cur(), "]")) break;
      e->args.push_back(parse_expression(true));
    }
    expect_op("]");
    return seal(std::move(e));
  }

  ExprPtr parse_dict() {
    ExprPtr e = make(ExprKind::Dict, expect_op("{").line);
    while (!is_op(cur(), "}")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op(cur(), "}")) break;
      e->args.push_back(parse_expression(true));
      expect_op(":");
      e->args.push_back(parse_expression(true));
    }
    expect_op("}");
    return seal(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(cur(), ".") || is_op(cur(), "[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op(cur(), "(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op(cur(), "|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name(cur(), "is")) {
        node = parse_test(std::move(node));
      } else if (is_op(cur(), "(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& t = next();
    int line = t.line;
    if (t.text == ".") {
      const Token& attr = next();
      if (attr.type == Tok::Name) {
        ExprPtr e = make(ExprKind::Getattr, line);
        e->a = std::move(node);
        e->name = attr.text;
        return seal(std::move(e));
      }
      if (attr.type != Tok::Integer) fail("expected name or number", attr.line);
      ExprPtr e = make(ExprKind::Getitem, line);
      e->a = std::move(node);
      e->b = make(ExprKind::Const, attr.line);
      e->b->value = Value::integer(attr.int_value);
      return seal(std::move(e));
    }
    std::vector<ExprPtr> args;
    while (!is_op(cur(), "]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    ExprPtr e = make(ExprKind::Getitem, line);
    e->a = std::move(node);
    if (args.size() == 1) {
      e->b = std::move(args[0]);
    } else {
      e->b = make(ExprKind::Tuple, line);
      e->b->args = std::move(args);
      e->b = seal(std::move(e->b));
    }
    return seal(std::move(e));
  }

  ExprPtr parse_subscribed() {
    int line = cur().line;
    ExprPtr start;
    if (is_op(cur(), ":")) {
      next();
    } else {
      start = parse_expression(true);
      if (!is_op(cur(), ":")) return start;
      next();
    }
    ExprPtr e = make(ExprKind::Slice, line);
    e->a = std::move(start);
    if (!is_op(cur(), ":") && !is_op(cur(), "]") && !is_op(cur(), ",")) e->b = parse_expression(true);
    if (skip_op(":")) {
      if (!is_op(cur(), "]") && !is_op(cur(), ",")) e->c = parse_expression(true);
    }
    return seal(std::move(e));
  }

  void parse_call_args(Expr& e) {
    int line = expect_op("(").line;
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail("invalid syntax for function call expression", line);
    };
    while (!is_op(cur(), ")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(cur(), ")")) break;
      }
      if (is_op(cur(), "*")) {
        ensure(!e.dyn_args && !e.dyn_kwargs);
        next();
        e.dyn_args = parse_expression(true);
      } else if (is_op(cur(), "**")) {
        ensure(!e.dyn_kwargs);
        next();
        e.dyn_kwargs = parse_expression(true);
      } else if (cur().type == Tok::Name && is_op(look(), "=")) {
        ensure(!e.dyn_kwargs);
        std::string key = next().text;
        next();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(!e.dyn_args && !e.dyn_kwargs && e.kwargs.empty());
        e.args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    ExprPtr e = make(ExprKind::Call, cur().line);
    e->a = std::move(node);
    parse_call_args(*e);
    return seal(std::move(e));
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op(cur(), "|") || start_inline) {
      if (!start_inline) next();
      const Token& t = expect_name();
      ExprPtr e = make(ExprKind::Filter, t.line);
      e->name = t.text;
      while (skip_op(".")) e->name += "." + expect_name().text;
      check_known(e->name, true, t.line);
      e->soft = ctx_.soft;
      e->a = std::move(node);
      if (is_op(cur(), "(")) parse_call_args(*e);
      node = seal(std::move(e));
      start_inline = false;
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    int line = next().line;
    bool negated = skip_name("not");
    const Token& t = expect_name();
    ExprPtr e = make(ExprKind::Test, line);
    e->name = t.text;
    while (skip_op(".")) e->name += "." + expect_name().text;
    check_known(e->name, false, t.line);
    e->soft = ctx_.soft;
    e->a = std::move(node);
    const Token& c = cur();
    if (is_op(c, "(")) {
      parse_call_args(*e);
    } else if ((c.type == Tok::Name || c.type == Tok::String || c.type == Tok::Integer || c.type == Tok::Float ||
                is_op(c, "(") || is_op(c, "[") || is_op(c, "{")) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
      if (is_name(c, "is")) fail("You cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary(false)));
    }
    e = seal(std::move(e));
    if (!negated) return e;
    ExprPtr n = make(ExprKind::Not, line);
    n->a = std::move(e);
    return seal(std::move(n));
  }

  void check_known(const std::string& name, bool filter, int line) {
    bool known = filter ? is_known_filter(name) : is_known_test(name);
    if (known || ctx_.soft) return;
    throw JinjaError{"TemplateAssertionError", std::string("No ") + (filter ? "filter" : "test") + " named '" + name + "'.",
                     line};
  }

  std::vector<Token> toks_;
  std::vector<std::vector<std::string>> end_stack_;
  std::vector<std::string> tag_stack_;
  size_t pos_ = 0;
  int depth_ = 0;
  Context ctx_;
};

}  // namespace

bool is_known_filter(std::string_view name) {
  return std::find(std::begin(kFilters), std::end(kFilters), name) != std::end(kFilters);
}

bool is_known_test(std::string_view name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

Template parse_template(std::string_view source) {
  Template t = Parser(tokenize(source)).parse();
  analyze_scopes(t);
  fold_constants(t);
  return t;
}

}  // namespace ember::jinja
