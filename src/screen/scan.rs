//! The screening pass: bytes in, findings out. Pure: no I/O, no Docker.
//!
//! Order: size limit, UTF-8, characters CPython reads differently (NUL, BOM,
//! a non-UTF-8 `coding:` declaration), line breaks normalised as CPython's
//! tokenizer does (`\r\n` and a lone `\r`), a cheap bracket-depth pre-scan
//! (so tree-sitter is never fed pathological nesting), parse, then one
//! iterative walk over the tree (an explicit stack: no recursion, whatever
//! the input), and a few checks that need the whole file (modules used as
//! values, private names the strategy defines itself, `to_*` methods it
//! defines). Every identifier is NFKC-normalised before any comparison, as
//! Python does, so `ｅｖａｌ` is `eval` here too.
//!
//! Decisions worth knowing (README, "Screening"):
//! - attribute names are not builtins: `re.compile(...)`, `obj.open()` pass;
//!   what makes an attribute dangerous is FS004's list (`pd.read_csv`,
//!   `df.query`, `np.load`, `....os`), wherever it appears in a chain;
//! - a module name as an attribute is refused only if an allowed module
//!   really exposes a module of that name (measured in the image): `json.codecs`
//!   is refused, `self.signal` is not (nothing allowed exposes `signal`);
//! - modules never travel as values (`m = np`, `f(json)`): the attribute
//!   rules follow chains, not variables;
//! - private `_names` only on the strategy's own `self`/`cls`, for names its
//!   own classes define; `self`/`cls` only as a method's first parameter;
//! - bindings are not references: `def open(...)` or a parameter named
//!   `input` is not a finding, but every later reference to the name is;
//! - `.format`/`.format_map` only on a literal whose fields read no
//!   attributes or items, called or not (`'{0.__class__}'.format(x)`,
//!   `template.format(x)` and `str.format(t, x)` are FS003);
//! - strings in annotations (and in `Optional[...]`-like generics) are
//!   evaluated as code by `get_type_hints`/`singledispatch`: they may only
//!   name types (FS008).

use std::collections::HashSet;

use tree_sitter::{Node, Parser};
use unicode_normalization::UnicodeNormalization;

use super::rules::*;

/// What the screening allows; from config `screening:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub allowed_imports: Vec<String>,
    pub max_source_bytes: usize,
    pub max_nesting: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_imports: DEFAULT_ALLOWED_IMPORTS.iter().map(|s| s.to_string()).collect(),
            max_source_bytes: 256 * 1024,
            max_nesting: 50,
        }
    }
}

/// Screen one source file.
pub fn screen(source: &[u8], policy: &Policy) -> Vec<Finding> {
    if source.len() > policy.max_source_bytes {
        return vec![finding(
            Rule::Limits,
            format!("the source is {} bytes, over the {}-byte limit", source.len(), policy.max_source_bytes),
            1,
            1,
            "",
        )];
    }
    let text = match std::str::from_utf8(source) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = position_of(source, e.valid_up_to());
            return vec![finding(Rule::Syntax, "the source is not valid UTF-8".into(), line, column, "")];
        }
    };
    if let Some(f) = unreadable_text(text) {
        return vec![f];
    }
    // Screen exactly the lines CPython executes: its tokenizer reads `\r\n`
    // and a lone `\r` as line breaks, tree-sitter reads a lone `\r` as part
    // of a comment. Normalising here (as CPython does) closes that gap.
    let normalised: std::borrow::Cow<str> = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let text: &str = &normalised;
    if let Some((depth, offset)) = bracket_depth_over(text, policy.max_nesting) {
        let (line, column) = position_of(text.as_bytes(), offset);
        return vec![finding(
            Rule::Limits,
            format!("brackets nested {depth} deep, over the limit of {}", policy.max_nesting),
            line,
            column,
            "",
        )];
    }
    let mut parser = Parser::new();
    if parser.set_language(&tree_sitter_python::LANGUAGE.into()).is_err() {
        return vec![finding(Rule::Syntax, "internal error: the Python grammar failed to load".into(), 1, 1, "")];
    }
    let Some(tree) = parser.parse(text, None) else {
        return vec![finding(Rule::Syntax, "the source could not be parsed".into(), 1, 1, "")];
    };
    let mut scan = Scan {
        src: text,
        policy,
        findings: Vec::new(),
        imported_modules: Vec::new(),
        values: Vec::new(),
        own_functions: HashSet::new(),
        pending_writers: Vec::new(),
        own_private: HashSet::new(),
        pending_private: Vec::new(),
        own_classes: HashSet::new(),
    };
    let root = tree.root_node();
    if root.has_error() {
        scan.syntax_error(root);
    }
    scan.walk(root);
    scan.finish();
    scan.findings.sort_by_key(|f| (f.line, f.column, f.rule));
    scan.findings.dedup();
    scan.findings
}

/// Characters that make CPython read the text differently from the screen,
/// or refuse it: NUL (CPython refuses the source), a byte order mark
/// (refused in a string source, and tree-sitter does not know it), and a
/// `coding:` declaration for anything but UTF-8 (CPython decodes bytes
/// through it: `# coding: utf-7` turns `+AAo-` inside a comment into a line
/// break).
fn unreadable_text(text: &str) -> Option<Finding> {
    let at = |offset: usize, message: String| {
        let (line, column) = position_of(text.as_bytes(), offset);
        Some(finding(Rule::Syntax, message, line, column, ""))
    };
    if let Some(i) = text.find('\0') {
        return at(i, "the source contains a NUL byte; CPython refuses it".into());
    }
    if let Some(i) = text.find('\u{feff}') {
        return at(i, "the source contains a byte order mark (U+FEFF); save it as UTF-8 without BOM".into());
    }
    let mut offset = 0;
    for line in text.split_inclusive(['\n', '\r']).take(2) {
        if let Some(enc) = coding_declaration(line) {
            let norm = enc.to_ascii_lowercase().replace('_', "-");
            if !matches!(norm.as_str(), "utf-8" | "utf8" | "ascii" | "us-ascii") && !norm.starts_with("utf-8-") {
                return at(offset, format!("`coding: {enc}`: the source must be UTF-8; remove the declaration"));
            }
        }
        offset += line.len();
    }
    None
}

/// The encoding named by a PEP 263 declaration on this line, as CPython
/// matches it: `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`.
fn coding_declaration(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches([' ', '\t', '\x0c']).strip_prefix('#')?;
    let mut search = rest;
    while let Some(i) = search.find("coding") {
        let after = &search[i + "coding".len()..];
        if let Some(value) = after.strip_prefix([':', '=']) {
            let value = value.trim_start_matches([' ', '\t']);
            let end =
                value.find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(value.len());
            if end > 0 {
                return Some(&value[..end]);
            }
        }
        search = after;
    }
    None
}

/// What a node inherits from its ancestors.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    /// Enclosing `block`s.
    depth: usize,
    /// The nearest enclosing definition is a class (its methods may define
    /// the allowed dunder methods).
    in_class: bool,
    /// Inside an annotation (`x: T`, `-> T`): string literals here are
    /// evaluated as code by `typing.get_type_hints` and `singledispatch`.
    in_annotation: bool,
}

impl Ctx {
    fn for_children_of(self, parent: Node) -> Ctx {
        match parent.kind() {
            "block" => Ctx { depth: self.depth + 1, ..self },
            "class_definition" => Ctx { in_class: true, ..self },
            "function_definition" | "lambda" => Ctx { in_class: false, ..self },
            "type" => Ctx { in_annotation: true, ..self },
            _ => self,
        }
    }
}

struct Scan<'a> {
    src: &'a str,
    policy: &'a Policy,
    findings: Vec<Finding>,
    /// Names bound by `import X` / `import X as Y`: modules.
    imported_modules: Vec<String>,
    /// Identifiers used as values (not as the object of an attribute, not
    /// bound): a module among them has escaped into a variable or argument,
    /// where the attribute rules could no longer follow it. Judged at the end,
    /// when every import is known.
    values: Vec<Node<'a>>,
    /// Functions and methods the strategy defines itself.
    own_functions: HashSet<String>,
    /// `x.to_foo(arg)` with `to_foo` unknown: a writer unless the strategy
    /// defines `to_foo` itself (known at the end).
    pending_writers: Vec<(String, Node<'a>)>,
    /// Private names the strategy's own code assigns (`self._x = ...`,
    /// `_x = ...` in a class body) or defines (`def _x`).
    own_private: HashSet<String>,
    /// `self._x` / `cls._x` reads, judged at the end against `own_private`.
    pending_private: Vec<(String, Node<'a>)>,
    /// Classes defined so far: a `Generic` one subscripted with a string
    /// (`Box["..."]`) makes a forward reference too.
    own_classes: HashSet<String>,
}

impl<'a> Scan<'a> {
    fn text(&self, n: Node) -> &'a str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    fn name(&self, n: Node) -> String {
        let t = self.text(n);
        // ASCII is already in NFKC form: skip the normaliser on the common path.
        if t.is_ascii() {
            t.to_string()
        } else {
            t.nfkc().collect()
        }
    }

    fn report(&mut self, rule: Rule, message: String, n: Node) {
        let p = n.start_position();
        let line_start = self.src[..n.start_byte().min(self.src.len())].rfind('\n').map_or(0, |i| i + 1);
        let column = self.src.get(line_start..n.start_byte()).map_or(p.column, |s| s.chars().count()) + 1;
        let text = self.text(n);
        let text: String = text.lines().next().unwrap_or("").chars().take(80).collect();
        self.findings.push(finding(rule, message, p.row + 1, column, &text));
    }

    fn syntax_error(&mut self, root: Node) {
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if n.is_error() || n.is_missing() {
                let what =
                    if n.is_missing() { format!("missing `{}`", n.kind()) } else { "invalid syntax".to_string() };
                self.report(Rule::Syntax, format!("syntax error: {what}; the strategy must be valid Python 3"), n);
                return;
            }
            if n.has_error() {
                let mut c = n.walk();
                let children: Vec<Node> = n.children(&mut c).collect();
                stack.extend(children.into_iter().rev());
            }
        }
    }

    /// Depth-first over the whole tree with one cursor: no recursion, no
    /// per-node allocation, and the ancestor chain kept here (tree-sitter's
    /// `Node::parent` searches down from the root, which would make the pass
    /// quadratic in depth).
    fn walk(&mut self, root: Node<'a>) {
        let mut cursor = root.walk();
        let mut ancestors: Vec<(Node<'a>, Ctx)> = Vec::new();
        loop {
            let n = cursor.node();
            let ctx = ancestors.last().map_or(Ctx::default(), |(p, pc)| pc.for_children_of(*p));
            let descend = match n.kind() {
                "import_statement" => {
                    self.import_statement(n);
                    false
                }
                "import_from_statement" => {
                    self.import_from(n);
                    false
                }
                "future_import_statement" => false,
                "block" if ctx.depth + 1 > self.policy.max_nesting => {
                    let msg =
                        format!("blocks nested {} deep, over the limit of {}", ctx.depth + 1, self.policy.max_nesting);
                    self.report(Rule::Limits, msg, n);
                    false
                }
                "function_definition" => {
                    self.definition(n, ctx.in_class);
                    true
                }
                "class_definition" => {
                    if let Some(name) = n.child_by_field_name("name") {
                        let name = self.name(name);
                        self.own_classes.insert(name);
                    }
                    true
                }
                "identifier" => {
                    self.identifier(n, cursor.field_name(), &ancestors);
                    true
                }
                "string" => {
                    self.string(n, ctx.in_annotation);
                    true
                }
                "attribute" => {
                    self.format_attribute(n);
                    true
                }
                "call" => {
                    self.call(n);
                    true
                }
                _ => true,
            };
            if descend && cursor.goto_first_child() {
                // `Optional["..."]` outside an annotation (`Alias =
                // Optional["..."]`) is evaluated too when the alias is used
                // in one: its strings are judged as annotations.
                let ctx = if n.kind() == "subscript" && self.is_typing_generic(n) {
                    Ctx { in_annotation: true, ..ctx }
                } else {
                    ctx
                };
                ancestors.push((n, ctx));
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                ancestors.pop();
            }
        }
    }

    fn definition(&mut self, n: Node, in_class: bool) {
        let Some(name_node) = n.child_by_field_name("name") else { return };
        let name = self.name(name_node);
        self.own_functions.insert(name.clone());
        if is_dunder(&name) && !(in_class && ALLOWED_DUNDER_DEFS.contains(&name.as_str())) {
            self.report(
                Rule::Dunder,
                format!(
                    "defining `{name}` is not allowed; allowed in your own classes: {}",
                    ALLOWED_DUNDER_DEFS.join(", ")
                ),
                name_node,
            );
        }
    }

    fn identifier(&mut self, n: Node<'a>, field: Option<&str>, ancestors: &[(Node<'a>, Ctx)]) {
        let parent = ancestors.last().map(|a| a.0);
        let grandparent = ancestors.len().checked_sub(2).map(|i| ancestors[i].0);
        let name = self.name(n);
        let parent_kind = parent.map_or("", |p| p.kind());
        if name == "self" || name == "cls" {
            self.self_binding(n, &name, field, ancestors);
        }
        match (parent_kind, field) {
            ("attribute", Some("attribute")) => {
                if is_dunder(&name) && !ALLOWED_DUNDER_ATTRIBUTES.contains(&name.as_str()) {
                    self.report(Rule::Dunder, format!("attribute `{name}` reaches interpreter internals"), n);
                } else if is_private(&name) {
                    if !self.object_is_own(parent) {
                        self.report(Rule::Private, private_message(&name), n);
                    } else if is_assignment_target(parent, ancestors) {
                        self.own_private.insert(name);
                    } else {
                        self.pending_private.push((name, n));
                    }
                } else if is_dangerous_attribute(&name) || self.is_lib_format(parent, &name) {
                    self.report(Rule::DangerousAttribute, dangerous_message(&name), n);
                } else if is_writer_name(&name) && !is_called(parent, grandparent) {
                    // A writer taken as a value (`w = df.to_string; w(buf)`)
                    // escapes the argument check below.
                    if name == "to_string" {
                        self.report(Rule::DangerousAttribute, writer_message(&name), n);
                    } else {
                        self.pending_writers.push((name, n));
                    }
                }
            }
            // Keyword-argument names and definitions' own names are not references.
            ("keyword_argument", Some("name")) => {}
            ("function_definition", Some("name")) | ("class_definition", Some("name")) => {}
            _ if is_parameter(parent_kind, field, grandparent.map_or("", |g| g.kind())) => {}
            _ => {
                if FORBIDDEN_NAMES.contains(&name.as_str()) {
                    self.report(
                        Rule::ForbiddenName,
                        format!("`{name}` is forbidden in strategies ({})", why_forbidden(&name)),
                        n,
                    );
                } else if is_dunder(&name) && !ALLOWED_DUNDER_NAMES.contains(&name.as_str()) {
                    self.report(Rule::Dunder, format!("name `{name}` reaches interpreter internals"), n);
                }
                let object_of_attribute = parent_kind == "attribute" && field == Some("object");
                let rebinding = parent_kind == "assignment" && field == Some("left");
                if rebinding && is_private(&name) {
                    // A class attribute or dataclass field `_x = ...`: the
                    // strategy's own private name.
                    self.own_private.insert(name);
                } else if !object_of_attribute && !rebinding {
                    self.values.push(n);
                }
            }
        }
    }

    /// `X[...]` where `X` is a generic type (`Optional`, `typing.List`,
    /// `list`): strings among its arguments become forward references.
    fn is_typing_generic(&self, subscript: Node) -> bool {
        let Some(value) = subscript.child_by_field_name("value") else { return false };
        let last = match value.kind() {
            "identifier" => value,
            "attribute" => match value.child_by_field_name("attribute") {
                Some(a) => a,
                None => return false,
            },
            _ => return false,
        };
        let name = self.text(last);
        TYPING_GENERICS.contains(&name) || (value.kind() == "identifier" && self.own_classes.contains(name))
    }

    /// `self` and `cls` are bound only as the first parameter of a method:
    /// bound anywhere else (`self = np.lib`, `lambda self: ...`, a plain
    /// function's parameter, `import numpy.lib as self`) they could name a
    /// library module or object, whose private attributes FS007 refuses.
    fn self_binding(&mut self, n: Node<'a>, name: &str, field: Option<&str>, ancestors: &[(Node<'a>, Ctx)]) {
        let Some(&(parent, _)) = ancestors.last() else { return };
        let pk = parent.kind();
        let param = matches!(
            pk,
            "parameters"
                | "lambda_parameters"
                | "typed_parameter"
                | "default_parameter"
                | "typed_default_parameter"
                | "list_splat_pattern"
                | "dictionary_splat_pattern"
        );
        if param {
            if !self.is_method_receiver(n, ancestors) {
                self.report(
                    Rule::Private,
                    format!(
                        "`{name}` may only be the first parameter of a method (not of a function, lambda or \
                         static method, and without a default): its private attributes are allowed"
                    ),
                    n,
                );
            }
            return;
        }
        // Walk out of parentheses and patterns to the binding statement.
        let mut field = field;
        let mut child = n;
        let mut i = ancestors.len();
        while i > 0
            && matches!(
                ancestors[i - 1].0.kind(),
                "parenthesized_expression" | "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list"
            )
        {
            child = ancestors[i - 1].0;
            i -= 1;
            field = None;
        }
        let Some(&(holder, _)) = i.checked_sub(1).and_then(|j| ancestors.get(j)) else { return };
        let field_of_child = if field.is_some() {
            field
        } else {
            // Which field of `holder` holds `child`.
            ["left", "name", "alias"]
                .into_iter()
                .find(|f| holder.child_by_field_name(f).is_some_and(|c| c.id() == child.id()))
        };
        let binding = match holder.kind() {
            "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" => field_of_child == Some("left"),
            "named_expression" | "function_definition" | "class_definition" => field_of_child == Some("name"),
            "as_pattern_target" | "global_statement" | "nonlocal_statement" | "pattern_list" | "tuple_pattern" => true,
            "as_pattern" => field_of_child == Some("alias"),
            _ => false,
        };
        if binding {
            self.report(
                Rule::Private,
                format!("`{name}` may not be rebound: it is the instance a method receives, whose private attributes are allowed"),
                n,
            );
        }
    }

    /// `n` (or its typed parameter) is the first parameter of a method: a
    /// function defined in a class body and not a `@staticmethod`.
    fn is_method_receiver(&self, n: Node<'a>, ancestors: &[(Node<'a>, Ctx)]) -> bool {
        let len = ancestors.len();
        let (param, params_at) = match ancestors[len - 1].0.kind() {
            "parameters" => (n, len - 1),
            "typed_parameter" if len >= 2 && ancestors[len - 2].0.kind() == "parameters" => {
                (ancestors[len - 1].0, len - 2)
            }
            _ => return false,
        };
        let params = ancestors[params_at].0;
        if params.named_child(0).map(|c| c.id()) != Some(param.id()) || params_at == 0 {
            return false;
        }
        let (func, func_ctx) = ancestors[params_at - 1];
        if func.kind() != "function_definition" || !func_ctx.in_class {
            return false;
        }
        let decorated = params_at >= 2 && ancestors[params_at - 2].0.kind() == "decorated_definition";
        !(decorated && self.text(ancestors[params_at - 2].0).contains("staticmethod"))
    }

    /// The object of `X._private` is the strategy's own `self` or `cls`.
    fn object_is_own(&self, attribute: Option<Node>) -> bool {
        let Some(obj) = attribute.and_then(|p| p.child_by_field_name("object")) else { return false };
        obj.kind() == "identifier" && matches!(self.text(obj), "self" | "cls")
    }

    /// Checks that need every import and definition of the file.
    fn finish(&mut self) {
        let pending = std::mem::take(&mut self.pending_private);
        for (name, n) in pending {
            if !self.own_private.contains(&name) && !self.own_functions.contains(&name) {
                self.report(
                    Rule::Private,
                    format!(
                        "`self.{name}` is not defined by your own classes (assign it, e.g. in `__init__`, or \
                         define the method): inherited private attributes are library internals"
                    ),
                    n,
                );
            }
        }
        let values = if self.imported_modules.is_empty() { Vec::new() } else { std::mem::take(&mut self.values) };
        for n in values {
            let raw = self.text(n);
            if !self.imported_modules.iter().any(|m| m == raw) && raw.is_ascii() {
                continue; // the common case, without allocating
            }
            let name = self.name(n);
            if self.imported_modules.contains(&name) {
                self.report(
                    Rule::DangerousAttribute,
                    format!(
                        "module `{name}` used as a value; use its attributes directly (`{name}.<name>`): \
                         a module passed around could reach what the attribute rules refuse"
                    ),
                    n,
                );
            }
        }
        let pending = std::mem::take(&mut self.pending_writers);
        for (name, n) in pending {
            if !self.own_functions.contains(&name) {
                self.report(Rule::DangerousAttribute, writer_message(&name), n);
            }
        }
    }

    /// Calls whose arguments decide: `to_*` writers given a path or a buffer,
    /// and pandas methods that dispatch on a method name given as a string.
    fn call(&mut self, n: Node<'a>) {
        let Some(f) = n.child_by_field_name("function") else { return };
        let Some(args) = n.child_by_field_name("arguments") else { return };
        if args.kind() != "argument_list" {
            return;
        }
        let attr = match f.kind() {
            "attribute" => match f.child_by_field_name("attribute") {
                Some(a) => a,
                None => return,
            },
            "identifier" => f,
            _ => return,
        };
        let method = self.name(attr);
        if method == "ndarray" && self.builds_raw_view(args) {
            self.report(
                Rule::DangerousAttribute,
                "`ndarray(...)` with a buffer, offset or strides can view memory outside any array; \
                 use `np.array`/`np.zeros` and `sliding_window_view`"
                    .into(),
                attr,
            );
            return;
        }
        if f.kind() != "attribute" {
            return;
        }
        if is_writer_name(&method) && !is_file_io(&method) {
            if self.may_pass_a_path(args) {
                if method == "to_string" || method == "tofile" {
                    self.report(Rule::DangerousAttribute, writer_message(&method), attr);
                } else {
                    self.pending_writers.push((method, attr));
                }
            }
        } else if STRING_DISPATCH.contains(&method.as_str()) {
            self.dispatch_strings(args, 0);
            self.dispatch_computed(args, attr, &method);
        } else if method == "set_option" || method == "option_context" {
            self.option_keys(args, attr);
        }
    }

    /// `pd.set_option('plotting.backend', 'mod')` imports `mod` at once
    /// (pandas validates the option by importing it). Option keys must be
    /// literals, and not the plotting backend.
    fn option_keys(&mut self, args: Node<'a>, attr: Node<'a>) {
        let mut c = args.walk();
        let children: Vec<Node<'a>> = args.named_children(&mut c).collect();
        // set_option(key, value, key, value, ...): the keys are the even positions.
        for (i, a) in children.iter().enumerate() {
            if a.kind() == "keyword_argument" || a.kind() == "comment" {
                continue;
            }
            if i % 2 == 1 {
                continue;
            }
            let bad = match a.kind() {
                "string" => {
                    let key = self.string_value(*a).to_ascii_lowercase();
                    key.contains("backend") || key.contains("plotting")
                }
                _ => true,
            };
            if bad {
                self.report(
                    Rule::DangerousAttribute,
                    "option keys must be literal, and not the plotting backend (setting it imports a module by name)"
                        .into(),
                    if a.kind() == "string" { *a } else { attr },
                );
            }
        }
    }

    /// `df.apply("to_" + "csv", path_or_buf=...)`: a method name built at
    /// run time, or a path keyword that only a writer would take.
    fn dispatch_computed(&mut self, args: Node<'a>, attr: Node<'a>, method: &str) {
        let mut c = args.walk();
        let children: Vec<Node<'a>> = args.named_children(&mut c).collect();
        let built = children.first().is_some_and(|a| match a.kind() {
            "binary_operator" | "concatenated_string" => true,
            "string" => a.named_children(&mut a.walk()).any(|p| p.kind() == "interpolation"),
            "call" => a
                .child_by_field_name("function")
                .and_then(|f| f.child_by_field_name("attribute"))
                .is_some_and(|m| matches!(self.text(m), "join" | "replace" | "lower" | "upper" | "strip" | "format")),
            _ => false,
        });
        let path = children.iter().any(|a| {
            a.kind() == "keyword_argument"
                && a.child_by_field_name("name").is_some_and(|k| PATH_KEYWORDS.contains(&self.name(k).as_str()))
        });
        if built || path {
            self.report(
                Rule::DangerousAttribute,
                format!(
                    "`.{method}()` with a method name built at run time or a file argument: pandas would look \
                     the name up and call it; pass a function or a literal name (`'mean'`)"
                ),
                attr,
            );
        }
    }

    /// `ndarray(shape, dtype, buffer, offset, strides)` given any of the last three.
    fn builds_raw_view(&self, args: Node) -> bool {
        let mut c = args.walk();
        let children: Vec<Node> = args.named_children(&mut c).collect();
        let positional = children.iter().filter(|a| a.kind() != "keyword_argument" && a.kind() != "comment").count();
        positional > 2
            || children.iter().any(|a| {
                matches!(a.kind(), "list_splat" | "dictionary_splat")
                    || (a.kind() == "keyword_argument"
                        && a.child_by_field_name("name")
                            .is_some_and(|k| matches!(self.text(k), "buffer" | "offset" | "strides")))
            })
    }

    /// A positional argument, a splat, or a keyword that names a file.
    fn may_pass_a_path(&self, args: Node) -> bool {
        let mut c = args.walk();
        let children: Vec<Node> = args.named_children(&mut c).collect();
        children.into_iter().any(|a| match a.kind() {
            "comment" => false,
            "keyword_argument" => {
                a.child_by_field_name("name").is_some_and(|k| PATH_KEYWORDS.contains(&self.name(k).as_str()))
            }
            _ => true,
        })
    }

    /// String literals passed to `apply`/`agg`/... (directly or in a list,
    /// tuple or dict) are looked up as method names by pandas: they may not
    /// name what the attribute rules refuse.
    fn dispatch_strings(&mut self, n: Node<'a>, depth: usize) {
        if depth > 3 {
            return;
        }
        let mut c = n.walk();
        let children: Vec<Node<'a>> = n.named_children(&mut c).collect();
        for a in children {
            match a.kind() {
                "string" => {
                    let v = self.string_value(a);
                    let v = v.trim();
                    if is_private(v) || is_dangerous_attribute(v) || (is_writer_name(v)) {
                        self.report(
                            Rule::DangerousAttribute,
                            format!("`{v}` given as a method name: pandas would call it; {}", dangerous_message(v)),
                            a,
                        );
                    }
                }
                "list" | "tuple" | "dictionary" | "pair" | "set" | "parenthesized_expression" | "keyword_argument" => {
                    self.dispatch_strings(a, depth + 1)
                }
                _ => {}
            }
        }
    }

    /// `np.lib.format` (pickle-capable array files): `format` is dangerous
    /// only right after `lib`.
    fn is_lib_format(&self, attribute: Option<Node>, name: &str) -> bool {
        if name != "format" {
            return false;
        }
        let Some(obj) = attribute.and_then(|p| p.child_by_field_name("object")) else { return false };
        let last = match obj.kind() {
            "attribute" => obj.child_by_field_name("attribute").map(|a| self.name(a)),
            "identifier" => Some(self.name(obj)),
            _ => None,
        };
        last.as_deref() == Some("lib")
    }

    fn import_statement(&mut self, n: Node) {
        let mut c = n.walk();
        let names: Vec<Node> = n.children_by_field_name("name", &mut c).collect();
        for name in names {
            self.check_alias(name);
            let module = if name.kind() == "aliased_import" { name.child_by_field_name("name") } else { Some(name) };
            if let Some(m) = module {
                self.check_module(m);
            }
            // The name the statement binds: the alias, or the first segment.
            let bound = if name.kind() == "aliased_import" {
                name.child_by_field_name("alias").map(|a| self.name(a))
            } else {
                self.name(name).split('.').next().map(|s| s.trim().to_string())
            };
            if let Some(b) = bound {
                self.imported_modules.push(b);
            }
        }
    }

    fn import_from(&mut self, n: Node) {
        match n.child_by_field_name("module_name") {
            Some(m) if m.kind() == "relative_import" => {
                self.report(Rule::Import, "relative imports are not allowed: a strategy is a single file".into(), m);
                return;
            }
            Some(m) => {
                if !self.check_module(m) {
                    return;
                }
            }
            None => return,
        }
        let mut c = n.walk();
        let children: Vec<Node> = n.children(&mut c).collect();
        for child in children {
            if child.kind() == "wildcard_import" {
                self.report(
                    Rule::Import,
                    "`import *` hides which names the strategy uses; import them by name".into(),
                    child,
                );
            }
        }
        let mut c = n.walk();
        let names: Vec<Node> = n.children_by_field_name("name", &mut c).collect();
        for name in names {
            self.check_alias(name);
            let target = if name.kind() == "aliased_import" { name.child_by_field_name("name") } else { Some(name) };
            let Some(t) = target else { continue };
            let imported = self.name(t);
            if FORBIDDEN_NAMES.contains(&imported.as_str()) {
                self.report(
                    Rule::ForbiddenName,
                    format!("importing `{imported}` is forbidden ({})", why_forbidden(&imported)),
                    t,
                );
            } else if is_dunder(&imported) {
                self.report(Rule::Dunder, format!("importing `{imported}` reaches interpreter internals"), t);
            } else if let Some(p) = imported.split('.').find(|s| is_private(s)) {
                self.report(Rule::Private, private_message(p), t);
            } else if imported.split('.').any(is_dangerous_attribute) {
                self.report(Rule::DangerousAttribute, dangerous_message(&imported), t);
            }
        }
    }

    /// `import X as self`: `self` is only ever the instance a method receives.
    fn check_alias(&mut self, name: Node) {
        if name.kind() != "aliased_import" {
            return;
        }
        if let Some(alias) = name.child_by_field_name("alias") {
            let a = self.name(alias);
            if a == "self" || a == "cls" {
                self.report(Rule::Private, format!("`{a}` may not be rebound by an import"), alias);
            }
        }
    }

    /// Returns whether the module itself is allowed.
    fn check_module(&mut self, m: Node) -> bool {
        let module: String = self.name(m).split_whitespace().collect();
        let allowed = self.policy.allowed_imports.iter().any(|a| module == *a || module.starts_with(&format!("{a}.")));
        if !allowed {
            self.report(
                Rule::Import,
                format!(
                    "import of `{module}` is not allowed; allowed modules: {}",
                    self.policy.allowed_imports.join(", ")
                ),
                m,
            );
            return false;
        }
        if let Some(seg) = module.split('.').skip(1).find(|s| is_dangerous_attribute(s)) {
            self.report(Rule::DangerousAttribute, format!("module `{module}`: {}", dangerous_message(seg)), m);
            return false;
        }
        if let Some(seg) = module.split('.').skip(1).find(|s| is_private(s)) {
            self.report(Rule::Private, format!("module `{module}`: {}", private_message(seg)), m);
            return false;
        }
        true
    }

    fn string(&mut self, n: Node, in_annotation: bool) {
        let value = self.string_value(n);
        for word in dunder_words(&value) {
            if !ALLOWED_DUNDER_STRINGS.contains(&word.as_str()) {
                self.report(Rule::Dunder, format!("the string names `{word}`, an interpreter internal"), n);
                return;
            }
        }
        if in_annotation {
            if let Some(why) = annotation_problem(&value) {
                self.report(
                    Rule::StringAnnotation,
                    format!(
                        "string annotation {why}: `typing.get_type_hints` and `functools.singledispatch` \
                         evaluate it as code; write the type itself, or a plain (dotted) type name"
                    ),
                    n,
                );
            }
        }
    }

    /// The literal's value with escapes decoded (raw strings kept as written).
    fn string_value(&self, n: Node) -> String {
        let mut raw = false;
        let mut out = String::new();
        let mut c = n.walk();
        for child in n.children(&mut c) {
            match child.kind() {
                "string_start" => raw = self.text(child).to_ascii_lowercase().contains('r'),
                "string_content" => {
                    let t = self.text(child);
                    out.push_str(&if raw { t.to_string() } else { decode_escapes(t) });
                }
                _ => {}
            }
        }
        out.nfkc().collect()
    }

    /// `LITERAL.format` / `LITERAL.format_map`, called or not: fields may
    /// not read attributes or items. On anything but a literal (`str.format`,
    /// a variable, a concatenation) it is refused: the template could be
    /// built at run time to read `{0.__globals__}`.
    fn format_attribute(&mut self, f: Node) {
        let Some(attr) = f.child_by_field_name("attribute") else { return };
        let method = self.name(attr);
        if method != "format" && method != "format_map" {
            return;
        }
        if self.is_lib_format(Some(f), &method) {
            return; // `np.lib.format`: FS004 already
        }
        let Some(obj) = f.child_by_field_name("object") else { return };
        let literal = match obj.kind() {
            "string" => Some(self.string_value(obj)),
            "concatenated_string" => {
                let mut c = obj.walk();
                let parts: Vec<Node> = obj.children(&mut c).collect();
                Some(parts.into_iter().map(|p| self.string_value(p)).collect())
            }
            _ => None,
        };
        match literal {
            Some(s) if format_reads_attributes(&s) => self.report(
                Rule::Dunder,
                "format fields may not read attributes or items (`{0.x}`, `{0[x]}`); format the values first".into(),
                obj,
            ),
            Some(_) => {}
            None => self.report(
                Rule::Dunder,
                format!("`.{method}()` is allowed on string literals only; use an f-string"),
                f,
            ),
        }
    }
}

/// The attribute node is (part of) the target of an assignment: `self._x = 1`,
/// `self._a, self._b = ...`, `self._n += 1`.
fn is_assignment_target(attribute: Option<Node>, ancestors: &[(Node, Ctx)]) -> bool {
    let Some(mut child) = attribute else { return false };
    // ancestors[len-1] is the attribute itself; climb from its parent.
    for (holder, _) in ancestors.iter().rev().skip(1) {
        match holder.kind() {
            "pattern_list" | "tuple_pattern" | "list_pattern" | "parenthesized_expression" => child = *holder,
            "assignment" | "augmented_assignment" => {
                return holder.child_by_field_name("left").is_some_and(|l| l.id() == child.id());
            }
            _ => return false,
        }
    }
    false
}

/// `attribute` is the function of the call `grandparent`.
fn is_called(attribute: Option<Node>, grandparent: Option<Node>) -> bool {
    match (attribute, grandparent) {
        (Some(a), Some(g)) => g.kind() == "call" && g.child_by_field_name("function").is_some_and(|f| f.id() == a.id()),
        _ => false,
    }
}

/// Why a string annotation is more than a type name, if it is: only dotted
/// names, subscripts, `|`, commas and `None` are allowed, and no name the
/// other rules refuse.
fn annotation_problem(value: &str) -> Option<String> {
    if let Some(c) =
        value.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | '[' | ']' | '|' | ' ')))
    {
        return Some(format!("contains `{c}`, which a type name does not"));
    }
    for word in value.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()) {
        let word: String = word.nfkc().collect();
        let w = word.as_str();
        if FORBIDDEN_NAMES.contains(&w) || is_dunder(w) || is_private(w) || is_dangerous_attribute(w) {
            return Some(format!("names `{w}`"));
        }
        if PYTHON_KEYWORDS.contains(&w) {
            return Some(format!("uses the keyword `{w}`"));
        }
    }
    None
}

/// Generic types whose string arguments `typing.get_type_hints` evaluates
/// (`Literal` is not among them: its strings stay strings).
const TYPING_GENERICS: &[&str] = &[
    "Optional",
    "Union",
    "List",
    "Dict",
    "Tuple",
    "Set",
    "FrozenSet",
    "Type",
    "Callable",
    "Annotated",
    "ClassVar",
    "Final",
    "Sequence",
    "MutableSequence",
    "Mapping",
    "MutableMapping",
    "Iterable",
    "Iterator",
    "Generator",
    "AsyncGenerator",
    "DefaultDict",
    "OrderedDict",
    "Counter",
    "Deque",
    "ChainMap",
    "Awaitable",
    "Coroutine",
    "AsyncIterable",
    "AsyncIterator",
    "Collection",
    "Container",
    "Reversible",
    "AbstractSet",
    "MutableSet",
    "KeysView",
    "ValuesView",
    "ItemsView",
    "ContextManager",
    "AsyncContextManager",
    "TypeGuard",
    "Concatenate",
    "Unpack",
    "Required",
    "NotRequired",
    "Generic",
    "Protocol",
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "type",
];

/// Keywords that would make a string annotation an expression (`None`,
/// `True` and `False` are values a type may name).
const PYTHON_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
    "return", "try", "while", "with", "yield",
];

/// A parameter name (a binding, not a reference). Default values and
/// annotations are expressions and are still checked.
fn is_parameter(parent: &str, field: Option<&str>, grandparent: &str) -> bool {
    match parent {
        "parameters" | "lambda_parameters" => true,
        "default_parameter" | "typed_default_parameter" => field == Some("name"),
        "typed_parameter" => field.is_none(),
        "list_splat_pattern" | "dictionary_splat_pattern" => {
            matches!(grandparent, "parameters" | "lambda_parameters" | "typed_parameter")
        }
        _ => false,
    }
}

fn why_forbidden(name: &str) -> &'static str {
    match name {
        "eval" | "exec" | "compile" | "__import__" => "it runs code built at run time",
        "open" | "input" => "the sandbox gives no file or terminal access; use `data.get(...)`",
        "getattr" | "setattr" | "delattr" | "vars" | "globals" | "locals" => {
            "it reaches attributes by computed name; access them directly"
        }
        "memoryview" => "it exposes raw memory",
        "license" | "credits" | "copyright" => "it reads files and is interactive",
        _ => "it is interactive or ends the interpreter",
    }
}

fn private_message(name: &str) -> String {
    format!(
        "`{name}` is private: library internals are not an API (and reach what the public one does not); \
         use the public name, or a name of your own on `self`"
    )
}

fn writer_message(name: &str) -> String {
    format!(
        "`{name}` with a path, a buffer or unknown arguments writes a file; call it without one \
         (e.g. `print(df.to_string())`), the strategy's only output is the position"
    )
}

fn dangerous_message(name: &str) -> String {
    if RAW_MEMORY.contains(&name) {
        format!("`{name}` makes views outside the array's memory; use `np.lib.stride_tricks.sliding_window_view`")
    } else if name == "lookfor" {
        "`lookfor` imports modules by name".to_string()
    } else if COMPUTED_ACCESS.contains(&name) {
        format!("`{name}` reaches attributes or evaluates names given as strings; access attributes directly")
    } else if SOURCE_READERS.contains(&name) {
        format!("`{name}` reads source files by name; use `warnings.warn(...)` to report")
    } else if is_writer_name(name) && !is_file_io(name) {
        writer_message(name)
    } else if is_file_io(name) {
        format!("`{name}` reads or writes files; the strategy's only input is `data.get(...)` and its only output the position")
    } else if EVALUATION.contains(&name) {
        format!("`{name}` evaluates a string as code; write the expression directly (e.g. boolean masks)")
    } else if FRAME_WALKS.contains(&name) {
        format!("`{name}` walks interpreter frames or code objects")
    } else if name == "format" {
        "`lib.format` reads and writes array files".to_string()
    } else {
        format!("`{name}` is an OS or interpreter module; strategies may not reach it, even through another module")
    }
}

fn finding(rule: Rule, message: String, line: usize, column: usize, text: &str) -> Finding {
    Finding { rule, severity: Severity::Error, message, line, column, text: text.to_string() }
}

/// 1-based line and column (in characters) of a byte offset.
fn position_of(source: &[u8], offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// The first point where brackets nest deeper than `limit`, ignoring
/// brackets inside strings and comments.
fn bracket_depth_over(text: &str, limit: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut quote: Option<(char, bool)> = None; // (quote char, triple)
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (off, ch) = bytes[i];
        match quote {
            Some((q, triple)) => {
                if ch == '\\' {
                    i += 2;
                    continue;
                }
                if ch == q {
                    if !triple {
                        quote = None;
                    } else if bytes.get(i + 1).map(|b| b.1) == Some(q) && bytes.get(i + 2).map(|b| b.1) == Some(q) {
                        quote = None;
                        i += 3;
                        continue;
                    }
                } else if ch == '\n' && !triple {
                    quote = None;
                }
            }
            None => match ch {
                '#' => {
                    while i < bytes.len() && bytes[i].1 != '\n' {
                        i += 1;
                    }
                    continue;
                }
                '\'' | '"' => {
                    let triple = bytes.get(i + 1).map(|b| b.1) == Some(ch) && bytes.get(i + 2).map(|b| b.1) == Some(ch);
                    quote = Some((ch, triple));
                    if triple {
                        i += 3;
                        continue;
                    }
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > limit {
                        return Some((depth, off));
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Decode Python string escapes (`\x5f`, `\u005f`, `\137`, `\N{LOW LINE}`).
/// Unknown escapes stay as written, as Python keeps them.
pub fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Option<char> {
            let digits: String = (0..n).filter_map(|_| chars.next_if(|c| c.is_ascii_hexdigit())).collect();
            u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' | '\'' | '"' => out.push(e),
            '\n' => {}
            'x' => out.push(hex(&mut chars, 2).unwrap_or('\u{fffd}')),
            'u' => out.push(hex(&mut chars, 4).unwrap_or('\u{fffd}')),
            'U' => out.push(hex(&mut chars, 8).unwrap_or('\u{fffd}')),
            '0'..='7' => {
                let mut digits = e.to_string();
                while digits.len() < 3 {
                    match chars.next_if(|c| ('0'..='7').contains(c)) {
                        Some(d) => digits.push(d),
                        None => break,
                    }
                }
                out.push(u32::from_str_radix(&digits, 8).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            'N' if chars.peek() == Some(&'{') => {
                let name: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                // The one name that matters here: `_` spelt out.
                out.push(if name.eq_ignore_ascii_case("LOW LINE") { '_' } else { '\u{fffd}' });
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// `__words__` in a string.
fn dunder_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'_' && b[i + 1] == b'_' {
            let start = i;
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let word = &s[start..j];
            if is_dunder(word) {
                out.push(word.to_string());
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a format template has a field like `{0.attr}` or `{x[key]}`,
/// including fields nested in a format spec (`{0:{1.attr}}`).
fn format_reads_attributes(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        // The field name ends at a conversion, a spec, the end of the field,
        // or a nested field; the scan then goes on inside the spec.
        while let Some(&n) = chars.peek() {
            if matches!(n, ':' | '!' | '}' | '{') {
                break;
            }
            if n == '.' || n == '[' {
                return true;
            }
            chars.next();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(src: &str) -> Vec<&'static str> {
        screen(src.as_bytes(), &Policy::default()).iter().map(|f| f.rule.id()).collect()
    }

    #[test]
    fn decodes_escapes_python_style() {
        assert_eq!(decode_escapes(r"\x5f\x5fclass\u005f\137"), "__class__");
        assert_eq!(decode_escapes(r"\N{LOW LINE}a"), "_a");
        assert_eq!(decode_escapes(r"a\qb"), r"a\qb");
    }

    #[test]
    fn finds_dunder_words() {
        assert_eq!(dunder_words("x.__class__.__base__"), ["__class__", "__base__"]);
        assert!(dunder_words("a_b __ c").is_empty());
    }

    #[test]
    fn format_fields() {
        assert!(format_reads_attributes("{0.__class__}"));
        assert!(format_reads_attributes("{x[0]}"));
        assert!(!format_reads_attributes("{:.2f} {name!r} {{literal}} {0:{1}.{2}f}"));
        assert!(format_reads_attributes("{0:{1.real}}"));
        assert!(format_reads_attributes("{0:>{width.x}}"));
    }

    #[test]
    fn bracket_prescan_ignores_strings_and_comments() {
        assert!(bracket_depth_over("x = '((((((((((' # ((((((((\n", 3).is_none());
        assert!(bracket_depth_over("x = ((((1))))", 3).is_some());
        assert!(bracket_depth_over("s = '''(((\n((('''", 2).is_none());
    }

    #[test]
    fn positions_are_one_based_characters() {
        let f = screen("x = 1\ny = ｅｖａｌ('1')\n".as_bytes(), &Policy::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].line, f[0].column), (2, 5));
        assert_eq!(f[0].rule, Rule::ForbiddenName);
    }

    #[test]
    fn clean_source_has_no_findings() {
        assert!(rules("import pandas as pd\ndef strategy(data):\n    return data.get('close') > 0\n").is_empty());
    }

    #[test]
    fn parameters_and_keyword_names_are_not_references() {
        assert!(rules("def f(input, open=1, *vars, **globals):\n    pass\nf(1, open=2)\n").is_empty());
        assert_eq!(rules("def f(x=eval):\n    pass\n"), ["FS002"]);
    }

    #[test]
    fn coding_declarations_as_cpython_matches_them() {
        assert_eq!(coding_declaration("# -*- coding: utf-7 -*-\n"), Some("utf-7"));
        assert_eq!(coding_declaration("\x0c # vim: set fileencoding=latin-1 :"), Some("latin-1"));
        assert_eq!(coding_declaration("#coding=utf_8"), Some("utf_8"));
        assert_eq!(coding_declaration("x = 1  # coding: utf-7"), None);
        assert_eq!(coding_declaration("# decoding nothing"), None);
    }

    #[test]
    fn only_utf8_declarations_pass() {
        assert!(rules("# -*- coding: utf-8 -*-\nx = 1\n").is_empty());
        assert!(rules("#!/usr/bin/env python3\n# coding=UTF8\nx = 1\n").is_empty());
        assert_eq!(rules("# coding: latin-1\nx = 1\n"), ["FS005"]);
        // Only the first two lines are declarations, as in CPython.
        assert!(rules("x = 1\ny = 2\n# coding: utf-7\n").is_empty());
    }

    #[test]
    fn carriage_returns_are_line_breaks_as_in_cpython() {
        assert_eq!(rules("x = 1  # c\rimport os\n"), ["FS001"]);
        let f = screen(b"x = 1\r\ny = 2\r\nimport os\r\n", &Policy::default());
        assert_eq!((f[0].line, f[0].column), (3, 8));
        let f = screen(b"x = 1\ry = 2\rimport os\r", &Policy::default());
        assert_eq!((f[0].line, f[0].column), (3, 8));
    }

    #[test]
    fn string_annotations_are_type_names_only() {
        assert_eq!(annotation_problem("pd.DataFrame"), None);
        assert_eq!(annotation_problem("Optional[Dict[str, pd.Series]] | None"), None);
        assert!(annotation_problem("open('x')").is_some());
        assert!(annotation_problem("int if x else str").is_some());
        assert!(annotation_problem("np.lib._datasource").is_some());
        assert!(annotation_problem("json.codecs").is_some());
    }

    #[test]
    fn private_attributes_only_on_self_and_cls() {
        assert!(rules(
            "class A:\n    _y = 1\n    def f(self):\n        self._x = 2\n        return self._x, self._y\n"
        )
        .is_empty());
        assert_eq!(rules("class A:\n    def f(self):\n        return self._x\n"), ["FS007"]);
        assert_eq!(rules("def f(self):\n    return self\n"), ["FS007"]);
        assert_eq!(rules("def f(o):\n    return o._x\n"), ["FS007"]);
        assert_eq!(rules("from dataclasses import _create_fn\n"), ["FS007"]);
    }

    #[test]
    fn modules_as_values_are_refused_attributes_of_them_are_not() {
        assert!(rules("import numpy as np\nx = np.mean([1])\nnp = None\n").is_empty());
        assert_eq!(rules("import numpy as np\nf = print\nf(np)\n"), ["FS004"]);
    }

    #[test]
    fn too_large_source_is_one_finding() {
        let p = Policy { max_source_bytes: 10, ..Policy::default() };
        let f = screen(b"x = 1234567890\n", &p);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, Rule::Limits);
    }
}
