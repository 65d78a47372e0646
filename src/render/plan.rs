//! The fast path: a template that is only text and `{{.Field}}` actions,
//! run without the template engine.

use std::fmt::Write as _;
use std::sync::Arc;

use gotmpl::parse::{Expr, ListNode, Node};

use super::{ErrorRequest, Renderer, Resolved};
use crate::escape::{self, Profile};
use crate::format::Format;

/// A template that is only text and `{{.Field}}` actions, run without the
/// template engine: text copied, fields spliced in escaped. On the JSON path
/// only when the text has no `<`, so html/template's context is plain text
/// throughout, where a trusted HTML value and a number print unchanged, as
/// here.
#[derive(Debug)]
pub(super) struct Plan {
    pieces: Vec<Piece>,
    pub(super) text_len: usize,
}

#[derive(Debug)]
enum Piece {
    Text(Arc<str>),
    Field(Arc<str>, Field),
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Message,
    StatusCode,
    Title,
    Action,
    Id,
    /// A request field, or nothing (which fails: the engine reports it).
    Other,
}

impl Plan {
    pub(super) fn new(tree: &ListNode, path: Format) -> Option<Plan> {
        let mut pieces = Vec::with_capacity(tree.nodes.len());
        let mut text_len = 0;
        for node in &tree.nodes {
            match node {
                Node::Text(t) => {
                    if path == Format::Json && t.text.contains('<') {
                        return None;
                    }
                    text_len += t.text.len();
                    pieces.push(Piece::Text(Arc::clone(&t.text)));
                }
                Node::Action(a) if a.pipe.decl.is_empty() => {
                    let [command] = a.pipe.commands.as_slice() else {
                        return None;
                    };
                    let [Expr::Field(_, names)] = command.args.as_slice() else {
                        return None;
                    };
                    let [name] = names.as_slice() else {
                        return None;
                    };
                    let field = match name.as_str() {
                        "Message" => Field::Message,
                        "StatusCode" => Field::StatusCode,
                        "Title" => Field::Title,
                        "Action" => Field::Action,
                        "ID" => Field::Id,
                        _ => Field::Other,
                    };
                    pieces.push(Piece::Field(name.as_str().into(), field));
                }
                _ => return None,
            }
        }
        Some(Plan { pieces, text_len })
    }
}

impl Renderer {
    /// Runs a plan into `out`, stopping as soon as it passes the output
    /// limit (a huge message repeated by a large template would otherwise
    /// build hundreds of megabytes before the check).
    pub(super) fn run_plan(
        &self,
        plan: &Plan,
        path: Format,
        profile: Profile,
        resolved: &Resolved<'_>,
        req: &ErrorRequest,
        out: &mut String,
    ) -> PlanRun {
        let strict = self.options.strict_tyk;
        let entry = resolved.entry;
        let max = self.set.limits().max_output_bytes;
        for piece in &plan.pieces {
            if out.len() > max {
                return PlanRun::TooLong;
            }
            let (name, field) = match piece {
                Piece::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Piece::Field(name, field) => (name, *field),
            };
            // Request fields are inserted last into the data, so they win.
            if !strict && let Some((_, v)) = req.fields.iter().rev().find(|(k, _)| **k == **name) {
                escape::escape_message_into(out, v, path, profile);
                continue;
            }
            let text = match field {
                Field::Message => resolved.message.as_ref(),
                _ if strict => return PlanRun::NeedsEngine,
                Field::StatusCode => {
                    let _ = write!(out, "{}", resolved.code);
                    continue;
                }
                Field::Title => entry.map_or("", |e| e.title.as_str()),
                Field::Action => entry.map_or("", |e| e.action.as_str()),
                Field::Id => entry.map_or("", |e| e.id.as_str()),
                Field::Other => return PlanRun::NeedsEngine,
            };
            escape::escape_message_into(out, text, path, profile);
        }
        if out.len() > max {
            PlanRun::TooLong
        } else {
            PlanRun::Done
        }
    }
}

/// How running a plan ended.
pub(super) enum PlanRun {
    /// The body is complete and within the output limit.
    Done,
    /// A field the plan cannot fill: run the engine for its exact error.
    NeedsEngine,
    /// The body passed the output limit.
    TooLong,
}
