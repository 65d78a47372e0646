//! Walking parsed templates: which functions, fields and templates they use,
//! and where (line and column) each use stands in the source.

use gotmpl::parse::{BranchNode, Expr, ListNode, Node, PipeNode};

use crate::gocompat;

/// One use of a name in a template, with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Use {
    pub(crate) kind: UseKind,
    pub(crate) name: String,
    pub(crate) offset: usize,
    pub(crate) line: usize,
    /// A `{{template "name"}}` call given no data: the called template
    /// runs on nil, as in Go.
    pub(crate) without_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UseKind {
    /// A function call (`{{len .Message}}`).
    Function,
    /// The first field of a chain on dot or `$` (`.StatusCode`, `$.Title`).
    Field,
    /// A `{{template "name"}}` call.
    Template,
}

/// Every function, field and template a tree uses, in source order.
pub(crate) fn uses(list: &ListNode) -> Vec<Use> {
    let mut out = Vec::new();
    walk_list(list, &mut out);
    out
}

fn walk_list(list: &ListNode, out: &mut Vec<Use>) {
    for node in &list.nodes {
        match node {
            Node::List(l) => walk_list(l, out),
            Node::Action(a) => walk_pipe(&a.pipe, out),
            Node::If(b) | Node::Range(b) | Node::With(b) => walk_branch(b, out),
            Node::Template(t) => {
                out.push(Use {
                    kind: UseKind::Template,
                    name: t.name.to_string(),
                    offset: t.pos.offset,
                    line: t.pos.line,
                    without_data: t.pipe.as_ref().is_none_or(gocompat::is_bare_template_call),
                });
                if let Some(p) = &t.pipe {
                    walk_pipe(p, out);
                }
            }
            Node::Define(d) => walk_list(&d.body, out),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

fn walk_branch(b: &BranchNode, out: &mut Vec<Use>) {
    walk_pipe(&b.pipe, out);
    walk_list(&b.body, out);
    if let Some(e) = &b.else_body {
        walk_list(e, out);
    }
}

fn walk_pipe(p: &PipeNode, out: &mut Vec<Use>) {
    for cmd in &p.commands {
        for arg in &cmd.args {
            walk_expr(arg, out);
        }
    }
}

fn walk_expr(e: &Expr, out: &mut Vec<Use>) {
    let mut push = |kind, name: &str, pos: gotmpl::parse::Pos| {
        out.push(Use {
            kind,
            name: name.to_owned(),
            offset: pos.offset,
            line: pos.line,
            without_data: false,
        })
    };
    match e {
        // Our own functions, inserted by `gocompat::rewrite`, are no use
        // the author made.
        Expr::Identifier(_, name) if gocompat::is_own_function(name) => {}
        Expr::Identifier(pos, name) => push(UseKind::Function, name, *pos),
        Expr::Field(pos, fields) => {
            if let Some(first) = fields.first() {
                push(UseKind::Field, first, *pos);
            }
        }
        Expr::Variable(pos, var, fields) if var == "$" => {
            if let Some(first) = fields.first() {
                push(UseKind::Field, first, *pos);
            }
        }
        Expr::Pipe(_, p) => walk_pipe(p, out),
        Expr::Chain(_, inner, _) => walk_expr(inner, out),
        _ => {}
    }
}

/// The 1-based byte column of `offset` in `src`, as Go reports columns.
pub(crate) fn column(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    let line_start = src.as_bytes()[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Columns count the file's bytes, as Go does: a byte that is not UTF-8
    // is one byte there and a four-byte character in engine text.
    src.get(line_start..offset)
        .map_or(offset - line_start, crate::rawbytes::go_len)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ListNode {
        gotmpl::parse::Parser::new(src, "{{", "}}")
            .unwrap()
            .parse()
            .unwrap()
            .0
    }

    #[test]
    fn finds_functions_fields_and_templates_with_places() {
        let tree = parse("a\n{{if .X}}{{len $.Y | printf \"%d\"}}{{end}}{{template \"t\" .}}");
        let all = uses(&tree);
        let found: Vec<(UseKind, &str, usize)> = all
            .iter()
            .map(|u| (u.kind, u.name.as_str(), u.line))
            .collect();
        assert_eq!(
            found,
            vec![
                (UseKind::Field, "X", 2),
                (UseKind::Function, "len", 2),
                (UseKind::Field, "Y", 2),
                (UseKind::Function, "printf", 2),
                (UseKind::Template, "t", 2),
            ]
        );
    }

    #[test]
    fn column_counts_bytes_from_line_start() {
        assert_eq!(column("ab\ncd", 4), 2);
        assert_eq!(column("ab", 0), 1);
    }
}
