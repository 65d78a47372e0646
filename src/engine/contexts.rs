//! The html/template context each action of an entry prints in, for the
//! fixes that depend on it: Go's escapers work on bytes and on Go values,
//! gotmpl's on UTF-8 and on its own values, and where the two disagree only
//! the context says which bytes Go writes.
//!
//! gotmpl keeps its escaped trees to itself, so the context is asked of it:
//! the entry cut just before an action (the branches around the action
//! flattened, since Go escapes a branch from the context before it) is
//! escaped on its own, and gotmpl refuses it with the context it ends in
//! (Go's `ends in a non-text context: {stateURL delimDoubleQuote ...}`),
//! or takes it when that is text. A called template is cut inside the
//! call; one called from contexts that disagree, or that calls itself, is
//! left as gotmpl escapes it.
//!
//! The fixes, each a function of ours placed last in the action's pipeline,
//! before the escapers gotmpl appends:
//!
//! - a URL ([`URL_START`], [`URL_PATH`], [`URL_QUERY`]): a byte that is not
//!   UTF-8 is percent-encoded as the byte, not as the four bytes of the
//!   character that carries it through gotmpl ([`crate::rawbytes`]);
//! - a script value ([`JS_VALUE`], in place of [`gocompat::PRINT_DATA`]):
//!   the data is Go's struct as JSON (`{"Message":"x"}`), a float Go's JSON
//!   number, and a byte that is not UTF-8 `\ufffd`, as `json.Marshal` writes;
//! - `html` inside `{{range}}` ([`gocompat::HTML_IN_RANGE`]): in a quoted
//!   attribute or RCDATA, Go's `html` replaces the context's escaper, which
//!   would write `+` as `&#43;`; in an unquoted attribute Go refuses it.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, PipeNode};
use gotmpl::{TemplateError, Value};

use crate::gocompat;
use crate::rawbytes::{self, Rune};

/// Where an action prints, as far as the fixes here need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The start of a URL: Go filters the scheme, then normalises.
    UrlStart,
    /// A URL's path: normalised.
    UrlPath,
    /// A URL's query or fragment: escaped.
    UrlQuery,
    /// A script value: JSON.
    JsValue,
    /// A quoted attribute value.
    QuotedAttr,
    /// An unquoted attribute value.
    UnquotedAttr,
    /// The text of `<textarea>` or `<title>`.
    Rcdata,
    /// Anywhere else (text, CSS, a script string ...).
    Other,
}

/// Our function for an action at the start of a URL (see the module).
pub(crate) const URL_START: &str = "_error_render_url_start";
/// Our function for an action in a URL's path.
pub(crate) const URL_PATH: &str = "_error_render_url_path";
/// Our function for an action in a URL's query or fragment.
pub(crate) const URL_QUERY: &str = "_error_render_url_query";
/// Our function for an action that writes a script value.
pub(crate) const JS_VALUE: &str = "_error_render_js_value";
/// gotmpl's HTML escaper by its html/template name: a pipeline that holds it
/// gets no other escaper equivalent to `html` (Go's `ensurePipelineContains`
/// merges equivalent escapers), which is how a final `html` inside a loop
/// stands in for the context's escaper as Go's does.
const HTML_ESCAPER: &str = "_html_template_htmlescaper";

/// How many nodes the probes of one entry may escape and the walk visit in
/// all (each action's probe escapes every node before it, called templates
/// inlined, so the work grows with the square of the entry, and with calls
/// of calls exponentially): past it no action is placed
/// and gotmpl's escaping stands, so that a huge entry's first render (which
/// escapes it, within the render's time limit) stays quick. Tyk's own
/// templates and the corpora's take a few hundred.
const MAX_PROBE_WORK: usize = 5_000;

/// The name the cut entry is escaped under.
const PROBE: &str = "_error_render_context_probe";

/// Applies the fixes to the entry `trees[entry]` and the templates it
/// calls (all already rewritten for the html/template path), when any of
/// the differences can arise in the set.
pub(crate) fn fix_entry(
    entry: &str,
    trees: &mut [(String, ListNode)],
    missing_key: gotmpl::MissingKey,
) {
    if !may_differ(trees) {
        return;
    }
    let cut_bytes = trees.iter().any(|(_, t)| may_cut_bytes(t));
    let funcs = gocompat::funcs();
    // Each action by its template and its place there; `None` where calls
    // from different contexts disagree, or escaping fails.
    let mut slots: BTreeMap<(String, usize), Option<Slot>> = BTreeMap::new();
    {
        let all: BTreeMap<&str, &ListNode> = trees.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let Some(root) = all.get(entry) else {
            return;
        };
        let mut walk = Walk {
            trees: &all,
            calls: vec![entry],
            before: Vec::new(),
            unplaced: false,
            left: MAX_PROBE_WORK,
            cut_bytes,
            found: &mut |owner, n, prefix| {
                // An action not asked about prints where no fix applies.
                let slot = match prefix {
                    Some(prefix) => slot_after(root, prefix, &all, &funcs, missing_key),
                    None => Some(Slot::Other),
                };
                slots
                    .entry((owner.to_owned(), n))
                    .and_modify(|s| {
                        if *s != slot {
                            *s = None;
                        }
                    })
                    .or_insert(slot);
            },
        };
        walk.list(entry, root, &mut 0);
        if walk.unplaced {
            return;
        }
    }
    for (name, tree) in trees.iter_mut() {
        let mut n = 0;
        for_each_action_mut(tree, &mut |pipe| {
            if let Some(Some(slot)) = slots.get(&(name.clone(), n)) {
                fix_pipe(pipe, *slot);
            }
            n += 1;
        });
    }
}

/// Whether a difference fixed here can arise in the set, so that sets
/// without one pay nothing: a cut byte, `html` in a loop (renamed), or a
/// script that may print the data.
fn may_differ(trees: &[(String, ListNode)]) -> bool {
    trees.iter().any(|(_, t)| {
        may_cut_bytes(t)
            || any_pipe(t, &|p| {
                pipe_any_arg(
                    p,
                    &|e| matches!(e, Expr::Identifier(_, n) if n == gocompat::HTML_IN_RANGE),
                )
            })
            || t.nodes.iter().any(|n| any_text(n, &may_open_script))
    })
}

/// Whether a tree can make a byte that is not UTF-8: `slice` cuts strings,
/// and a literal of a file that is not UTF-8 may hold one.
fn may_cut_bytes(list: &ListNode) -> bool {
    any_pipe(list, &|p| {
        pipe_any_arg(p, &|e| match e {
            Expr::Identifier(_, n) => n == "slice",
            Expr::String(_, s) => rawbytes::has_mapped(s),
            _ => false,
        })
    })
}

/// Whether template text may open a script: an element, or an `on...`
/// attribute.
fn may_open_script(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("<script") || (lower.contains('<') && lower.contains(" on"))
}

/// Whether `f` holds for some text of the node; a call of another template
/// may hold any text.
fn any_text(node: &Node, f: &impl Fn(&str) -> bool) -> bool {
    let list = |l: &ListNode| l.nodes.iter().any(|n| any_text(n, f));
    match node {
        Node::Text(t) => f(&t.text),
        Node::List(l) => list(l),
        Node::If(b) | Node::Range(b) | Node::With(b) => {
            list(&b.body) || b.else_body.as_ref().is_some_and(list)
        }
        Node::Define(d) => list(&d.body),
        Node::Template(_) => true,
        Node::Action(_) | Node::Break(_) | Node::Continue(_) => false,
    }
}

/// Whether `f` holds for some pipeline of the tree.
fn any_pipe(list: &ListNode, f: &impl Fn(&PipeNode) -> bool) -> bool {
    list.nodes.iter().any(|node| match node {
        Node::List(l) => any_pipe(l, f),
        Node::Action(a) => f(&a.pipe),
        Node::If(b) | Node::Range(b) | Node::With(b) => {
            f(&b.pipe)
                || any_pipe(&b.body, f)
                || b.else_body.as_ref().is_some_and(|e| any_pipe(e, f))
        }
        Node::Template(t) => t.pipe.as_ref().is_some_and(f),
        Node::Define(d) => any_pipe(&d.body, f),
        Node::Text(_) | Node::Break(_) | Node::Continue(_) => false,
    })
}

/// Whether `f` holds for some argument of the pipeline, nested ones too.
fn pipe_any_arg(pipe: &PipeNode, f: &impl Fn(&Expr) -> bool) -> bool {
    pipe.commands.iter().flat_map(|c| &c.args).any(|a| {
        f(a) || match a {
            Expr::Pipe(_, p) => pipe_any_arg(p, f),
            Expr::Chain(_, inner, _) => {
                matches!(inner.as_ref(), Expr::Pipe(_, p) if pipe_any_arg(p, f))
            }
            _ => false,
        }
    })
}

/// A walk over the actions an entry prints, in document order, each with
/// the nodes that print before it: the branches around it flattened, and
/// the templates it is in inlined where they are called (Go escapes a
/// called template in the context of the call).
struct Walk<'t, 'f, F: FnMut(&str, usize, Option<&[Node]>)> {
    trees: &'t BTreeMap<&'t str, &'t ListNode>,
    /// The templates being walked, the entry first.
    calls: Vec<&'t str>,
    before: Vec<Node>,
    /// Set when some action cannot be placed: a template that calls itself
    /// prints in contexts no walk ends, and past [`MAX_PROBE_WORK`] none is.
    unplaced: bool,
    /// What remains of [`MAX_PROBE_WORK`].
    left: usize,
    /// Whether the set can make a byte that is not UTF-8 (every action is
    /// then asked about, for URLs and scripts).
    cut_bytes: bool,
    /// Called with each action's template, its place among that template's
    /// actions (as [`for_each_action_mut`] counts them) and what precedes
    /// it, or `None` for an action no fix can concern (saving its probe).
    found: &'f mut F,
}

impl<'t, F: FnMut(&str, usize, Option<&[Node]>)> Walk<'t, '_, F> {
    /// Whether a fix could concern the action: `html` in a loop, anything
    /// where a cut byte can be made, and the data once a script may have
    /// opened.
    fn concerns(&self, pipe: &PipeNode) -> bool {
        let last = pipe.commands.last().and_then(|c| match c.args.first() {
            Some(Expr::Identifier(_, n)) => Some(n.as_str()),
            _ => None,
        });
        match last {
            Some(gocompat::HTML_IN_RANGE) => true,
            _ if self.cut_bytes => true,
            Some(gocompat::PRINT_DATA) => self.before.iter().any(|n| any_text(n, &may_open_script)),
            _ => false,
        }
    }

    fn list(&mut self, owner: &'t str, list: &'t ListNode, n: &mut usize) {
        for node in &list.nodes {
            // Inlining calls can take exponential time: every node walked
            // counts, not only the probes.
            let Some(left) = self.left.checked_sub(1) else {
                self.unplaced = true;
                return;
            };
            self.left = left;
            match node {
                Node::Action(a) if a.pipe.decl.is_empty() => {
                    if self.concerns(&a.pipe) {
                        let Some(left) = self.left.checked_sub(self.before.len() + 1) else {
                            self.unplaced = true;
                            return;
                        };
                        self.left = left;
                        (self.found)(owner, *n, Some(&self.before));
                    } else {
                        (self.found)(owner, *n, None);
                    }
                    *n += 1;
                }
                Node::If(b) | Node::Range(b) | Node::With(b) => {
                    let mark = self.before.len();
                    self.list(owner, &b.body, n);
                    self.before.truncate(mark);
                    if let Some(e) = &b.else_body {
                        self.list(owner, e, n);
                        self.before.truncate(mark);
                    }
                }
                Node::List(l) => {
                    self.list(owner, l, n);
                    continue;
                }
                Node::Template(t) => {
                    if let Some((name, callee)) = self.trees.get_key_value(t.name.as_str()) {
                        if self.calls.contains(name) {
                            self.unplaced = true;
                        } else {
                            // The callee's text stands in for the call.
                            self.calls.push(name);
                            self.list(name, callee, &mut 0);
                            self.calls.pop();
                            continue;
                        }
                    }
                }
                _ => {}
            }
            self.before.push(node.clone());
        }
    }
}

/// As [`for_each_action`], with each action's pipeline, in the same order.
fn for_each_action_mut(list: &mut ListNode, f: &mut impl FnMut(&mut PipeNode)) {
    for node in &mut list.nodes {
        match node {
            Node::Action(a) if a.pipe.decl.is_empty() => f(&mut a.pipe),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                for_each_action_mut(&mut b.body, f);
                if let Some(e) = &mut b.else_body {
                    for_each_action_mut(e, f);
                }
            }
            Node::List(l) => for_each_action_mut(l, f),
            _ => {}
        }
    }
}

/// The slot of an action printed after `prefix`, or `None` when gotmpl
/// cannot escape the cut entry (the whole entry then fails as it would).
fn slot_after(
    root: &ListNode,
    prefix: &[Node],
    trees: &BTreeMap<&str, &ListNode>,
    funcs: &gotmpl::FuncMap,
    missing_key: gotmpl::MissingKey,
) -> Option<Slot> {
    let cut = ListNode {
        pos: root.pos,
        nodes: prefix.to_vec(),
    };
    let mut t = gotmpl::html::Template::new(PROBE)
        .missing_key(missing_key)
        .funcs(funcs.clone());
    // Only what the cut calls: gotmpl escapes every template it is given.
    let mut todo = vec![&cut];
    let mut added = std::collections::BTreeSet::new();
    while let Some(list) = todo.pop() {
        for u in crate::tree::uses(list) {
            if u.kind == crate::tree::UseKind::Template
                && let Some((name, tree)) = trees.get_key_value(u.name.as_str())
                && added.insert(*name)
            {
                t = t.add_parse_tree(name, (*tree).clone()).ok()?;
                todo.push(tree);
            }
        }
    }
    t = t.add_parse_tree(PROBE, cut).ok()?.parse("").ok()?;
    // Escaping runs before the (missing) template is looked up.
    match t.execute_template_fmt(&mut String::new(), "", &Value::Nil) {
        Err(TemplateError::UndefinedTemplate(_)) => Some(Slot::Other),
        Err(TemplateError::Escape {
            code: gotmpl::EscapeErrorCode::EndContext,
            description,
            ..
        }) => Some(slot_of(&description)),
        _ => None,
    }
}

/// The slot for gotmpl's (and Go's) text of a context, `{state delim
/// urlPart jsCtx [braces] attr element err}`, after the nudge html/template
/// gives a context before it places an action (`href=` is the URL's start).
fn slot_of(description: &str) -> Slot {
    let Some(fields) = description.split('{').nth(1) else {
        return Slot::Other;
    };
    let words: Vec<&str> = fields.split_whitespace().collect();
    let (state, delim, url_part) = match words.as_slice() {
        [s, d, u, ..] => (*s, *d, *u),
        _ => return Slot::Other,
    };
    let attr = words.iter().find(|w| w.starts_with("attr")).copied();
    let (state, delim) = match (state, attr) {
        ("stateBeforeValue", Some("attrURL")) => ("stateURL", "delimSpaceOrTagEnd"),
        ("stateBeforeValue", Some("attrScript")) => ("stateJS", "delimSpaceOrTagEnd"),
        ("stateBeforeValue", Some("attrNone" | "attrScriptType")) => {
            ("stateAttr", "delimSpaceOrTagEnd")
        }
        _ => (state, delim),
    };
    const URL: [&str; 4] = ["stateURL", "stateCSSDqURL", "stateCSSSqURL", "stateCSSURL"];
    const CSS_STRING: [&str; 2] = ["stateCSSDqStr", "stateCSSSqStr"];
    match (state, url_part) {
        (s, "urlPartNone") if URL.contains(&s) => Slot::UrlStart,
        (s, "urlPartPreQuery") if URL.contains(&s) => Slot::UrlPath,
        (s, "urlPartQueryOrFrag") if URL.contains(&s) || CSS_STRING.contains(&s) => Slot::UrlQuery,
        ("stateJS", _) => Slot::JsValue,
        ("stateAttr", _) if delim == "delimSpaceOrTagEnd" => Slot::UnquotedAttr,
        ("stateAttr", _) => Slot::QuotedAttr,
        ("stateRCDATA", _) => Slot::Rcdata,
        _ => Slot::Other,
    }
}

/// Places the fix for `slot` in an action's pipeline.
fn fix_pipe(pipe: &mut PipeNode, slot: Slot) {
    let pos = pipe.pos;
    let Some(last) = pipe.commands.last_mut() else {
        return;
    };
    let Some(Expr::Identifier(_, name)) = last.args.first_mut() else {
        return;
    };
    let append = |pipe: &mut PipeNode, f: &str| {
        pipe.commands.push(CommandNode {
            pos,
            args: vec![Expr::Identifier(pos, f.into())],
        });
    };
    match (slot, name.as_str()) {
        // Go refuses `html` here; left as itself, so does gotmpl.
        (Slot::UnquotedAttr, gocompat::HTML_IN_RANGE) => *name = "html".into(),
        (Slot::QuotedAttr | Slot::Rcdata, gocompat::HTML_IN_RANGE) => append(pipe, HTML_ESCAPER),
        (Slot::JsValue, gocompat::PRINT_DATA) => *name = JS_VALUE.into(),
        // A predefined escaper must stay last, and writes Go's bytes.
        (_, "html" | "urlquery") => {}
        (Slot::UrlStart, _) => append(pipe, URL_START),
        (Slot::UrlPath, _) => append(pipe, URL_PATH),
        (Slot::UrlQuery, _) => append(pipe, URL_QUERY),
        _ => {}
    }
}

/// The Go string a value is, for a URL or a script, if it holds a byte that
/// is not UTF-8 (otherwise gotmpl's escaper already writes Go's bytes).
fn cut_string(args: &[Value]) -> Option<&Arc<str>> {
    match args {
        [Value::String(s)] if rawbytes::has_mapped(s) => Some(s),
        [Value::Safe { kind, s }]
            if !matches!(
                kind,
                gotmpl::SafeKind::Url | gotmpl::SafeKind::Js | gotmpl::SafeKind::JsStr
            ) && rawbytes::has_mapped(s) =>
        {
            Some(s)
        }
        _ => None,
    }
}

fn one<'a>(name: &str, args: &'a [Value]) -> gotmpl::Result<&'a Value> {
    match args {
        [v] => Ok(v),
        _ => Err(TemplateError::ArgCount {
            name: name.into(),
            expected: 1,
            got: args.len(),
        }),
    }
}

/// A trusted URL: gotmpl's URL escapers leave what Go's would have written.
fn url(s: String) -> Value {
    Value::Safe {
        kind: gotmpl::SafeKind::Url,
        s: s.into(),
    }
}

pub(crate) fn url_start(args: &[Value]) -> gotmpl::Result<Value> {
    let v = one(URL_START, args)?;
    Ok(match cut_string(args) {
        Some(s) => {
            let bytes = rawbytes::go_bytes(s);
            if is_safe_url(&bytes) {
                url(percent_encode(&bytes, true))
            } else {
                Value::String("#ZgotmplZ".into())
            }
        }
        None => v.clone(),
    })
}

pub(crate) fn url_path(args: &[Value]) -> gotmpl::Result<Value> {
    let v = one(URL_PATH, args)?;
    Ok(match cut_string(args) {
        Some(s) => url(percent_encode(&rawbytes::go_bytes(s), true)),
        None => v.clone(),
    })
}

pub(crate) fn url_query(args: &[Value]) -> gotmpl::Result<Value> {
    let v = one(URL_QUERY, args)?;
    Ok(match cut_string(args) {
        Some(s) => url(percent_encode(&rawbytes::go_bytes(s), false)),
        None => v.clone(),
    })
}

/// html/template's `isSafeURL`: a relative URL, or http, https or mailto.
fn is_safe_url(s: &[u8]) -> bool {
    let Some(colon) = s.iter().position(|&b| b == b':') else {
        return true;
    };
    let scheme = &s[..colon];
    scheme.contains(&b'/')
        || [&b"http"[..], b"https", b"mailto"]
            .iter()
            .any(|p| scheme.eq_ignore_ascii_case(p))
}

/// html/template's URL escaping of Go's bytes: unreserved bytes as they
/// are, the reserved ones too when normalising (and `%` that starts an
/// escape), every other byte as `%xx`.
fn percent_encode(s: &[u8], normalise: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() * 3);
    for (i, &b) in s.iter().enumerate() {
        let keep = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => true,
            b'!' | b'#' | b'$' | b'&' | b'*' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?'
            | b'@' | b'[' | b']' => normalise,
            b'%' => {
                normalise
                    && i + 2 < s.len()
                    && s[i + 1].is_ascii_hexdigit()
                    && s[i + 2].is_ascii_hexdigit()
            }
            _ => false,
        };
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

/// [`gocompat::PRINT_DATA`] for an action that writes a script value.
pub(crate) fn js_value(args: &[Value]) -> gotmpl::Result<Value> {
    let v = one(JS_VALUE, args)?;
    let js = |s: String| Value::Safe {
        kind: gotmpl::SafeKind::Js,
        s: s.into(),
    };
    Ok(match v {
        // The data: Go's struct has the one field.
        Value::Map(m) => {
            let message = match m.get("Message") {
                Some(Value::String(s) | Value::Safe { s, .. }) => s.to_string(),
                Some(other) => crate::gofmt::print_value(other),
                None => String::new(),
            };
            js(format!("{{\"Message\":{}}}", json_string(&message)))
        }
        // gotmpl's escaper writes a float as Go's JSON does.
        Value::Float(_) => v.clone(),
        _ => match cut_string(args) {
            Some(s) => js(json_string(s)),
            None => gocompat::go_print_data(args)?,
        },
    })
}

/// `json.Marshal` of a Go string (engine text): HTML-safe, a byte that is
/// not UTF-8 as `\ufffd`.
fn json_string(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    rawbytes::for_each_rune(s, |r| match r {
        Rune::Byte(_) => out.push_str("\\ufffd"),
        Rune::Char('"') => out.push_str("\\\""),
        Rune::Char('\\') => out.push_str("\\\\"),
        Rune::Char('\n') => out.push_str("\\n"),
        Rune::Char('\r') => out.push_str("\\r"),
        Rune::Char('\t') => out.push_str("\\t"),
        Rune::Char('\u{8}') => out.push_str("\\b"),
        Rune::Char('\u{c}') => out.push_str("\\f"),
        Rune::Char(c @ ('<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}')) => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        Rune::Char(c) => out.push(c),
    });
    out.push('"');
    out
}
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gotmpl::Value;

    use crate::format::Format;
    use crate::set::{TemplateFile, TemplateSet};

    /// Each action's probe escapes what precedes it, so an entry of
    /// thousands of actions after a script would take seconds to place, in
    /// its first render and against the render's time limit: past the
    /// bound, none is placed.
    #[test]
    fn a_huge_entry_with_a_script_renders_within_the_time_limit() {
        let mut text = String::from("<script>var a = 1;</script>");
        for i in 0..400 {
            text.push_str(&format!(
                "<a href=\"/{i}?q={{{{.Message}}}}\">{{{{if .Message}}}}<b title=\"{{{{.Message}}}}\">{{{{.Message}}}}</b>{{{{end}}}}</a>"
            ));
        }
        let set = TemplateSet::from_files([TemplateFile {
            name: "error.json".into(),
            text: text.into(),
        }])
        .unwrap();
        let data = Value::Map(Arc::new([(Arc::from("Message"), Value::from("m"))].into()));
        let mut out = String::new();
        set.execute("error.json", Format::Json, &data, &mut out)
            .unwrap();
        assert!(
            out.ends_with("<a href=\"/399?q=m\"><b title=\"m\">m</b></a>"),
            "{out}"
        );
    }

    #[test]
    fn contexts_are_read_from_gotmpl_text() {
        use super::{Slot, slot_of};
        for (text, slot) in [
            (
                "ends in a non-text context: {stateURL delimDoubleQuote urlPartNone jsCtxRegexp [] attrNone elementNone <nil>}",
                Slot::UrlStart,
            ),
            (
                "ends in a non-text context: {stateURL delimDoubleQuote urlPartQueryOrFrag jsCtxRegexp [] attrNone elementNone <nil>}",
                Slot::UrlQuery,
            ),
            (
                "ends in a non-text context: {stateBeforeValue delimNone urlPartNone jsCtxRegexp [] attrURL elementNone <nil>}",
                Slot::UrlStart,
            ),
            (
                "ends in a non-text context: {stateBeforeValue delimNone urlPartNone jsCtxRegexp [] attrNone elementNone <nil>}",
                Slot::UnquotedAttr,
            ),
            (
                "ends in a non-text context: {stateJS delimNone urlPartNone jsCtxRegexp [1 2] attrNone elementScript <nil>}",
                Slot::JsValue,
            ),
            (
                "ends in a non-text context: {stateAttr delimSingleQuote urlPartNone jsCtxRegexp [] attrNone elementNone <nil>}",
                Slot::QuotedAttr,
            ),
            (
                "ends in a non-text context: {stateRCDATA delimNone urlPartNone jsCtxRegexp [] attrNone elementTextarea <nil>}",
                Slot::Rcdata,
            ),
            (
                "ends in a non-text context: {stateCSS delimNone urlPartNone jsCtxRegexp [] attrNone elementStyle <nil>}",
                Slot::Other,
            ),
            ("something else", Slot::Other),
        ] {
            assert_eq!(slot_of(text), slot, "{text}");
        }
    }
}
