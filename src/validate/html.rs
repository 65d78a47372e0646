//! Judging an HTML page: parsed by html5ever (Servo's HTML5 parser, the
//! WHATWG algorithm browsers run), whose parse errors are what makes a page
//! "not well-formed" here. html5ever builds no tree of its own; the sink
//! below keeps none either, only the errors and the line each was met on.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink as _};
use html5ever::{Attribute, ParseOpts, QualName, local_name, ns};

use super::wellformed::Malformed;

/// Parses `body` as an HTML document; the first parse error, placed at the
/// start of the line html5ever met it on, with how many more there are.
pub(crate) fn check_html(body: &str) -> Result<(), (Malformed, usize)> {
    let sink = ErrorSink::default();
    let opts = ParseOpts {
        tokenizer: html5ever::tokenizer::TokenizerOpts {
            // The precise words ("Unexpected token ..."), not "Bad character".
            exact_errors: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let errors = html5ever::parse_document(sink, opts).one(body);
    let mut errors = errors.into_iter();
    let Some((line, message)) = errors.next() else {
        return Ok(());
    };
    let offset = body
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(body.len());
    Err((
        Malformed {
            offset,
            message: format!("line {line} of the output: {message}"),
        },
        errors.count(),
    ))
}

/// A node as the tree builder sees it: only elements' names matter to it.
type Handle = Rc<QualName>;

/// Records parse errors and the line of each; builds nothing.
#[derive(Default)]
struct ErrorSink {
    line: Cell<u64>,
    errors: RefCell<Vec<(usize, Cow<'static, str>)>>,
}

impl ErrorSink {
    fn node() -> Handle {
        // Non-elements need a name the tree builder never matches on.
        Rc::new(QualName::new(None, ns!(), local_name!("")))
    }
}

impl TreeSink for ErrorSink {
    type Handle = Handle;
    type Output = Vec<(usize, Cow<'static, str>)>;
    type ElemName<'a> = &'a QualName;

    fn finish(self) -> Self::Output {
        self.errors.into_inner()
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        let line = usize::try_from(self.line.get()).unwrap_or(usize::MAX);
        self.errors.borrow_mut().push((line.max(1), msg));
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(line_number);
    }

    fn get_document(&self) -> Handle {
        Self::node()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> &'a QualName {
        target
    }

    fn create_element(&self, name: QualName, _: Vec<Attribute>, _: ElementFlags) -> Handle {
        Rc::new(name)
    }

    fn create_comment(&self, _: StrTendril) -> Handle {
        Self::node()
    }

    fn create_pi(&self, _: StrTendril, _: StrTendril) -> Handle {
        Self::node()
    }

    fn append(&self, _: &Handle, _: NodeOrText<Handle>) {}

    fn append_based_on_parent_node(&self, _: &Handle, _: &Handle, _: NodeOrText<Handle>) {}

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, _: &Handle) -> Handle {
        Self::node()
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        Rc::ptr_eq(x, y)
    }

    fn set_quirks_mode(&self, _: QuirksMode) {}

    fn append_before_sibling(&self, _: &Handle, _: NodeOrText<Handle>) {}

    fn add_attrs_if_missing(&self, _: &Handle, _: Vec<Attribute>) {}

    fn remove_from_parent(&self, _: &Handle) {}

    fn reparent_children(&self, _: &Handle, _: &Handle) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_page_is_well_formed() {
        let page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                    <title>x</title><style>p{}</style></head>\n<body><h1>404</h1>\
                    <p>a &amp; b</p></body></html>\n";
        assert_eq!(check_html(page), Ok(()));
    }

    #[test]
    fn a_stray_end_tag_is_found_on_its_line() {
        let page = "<!DOCTYPE html>\n<html><head><title>x</title></head>\n<body>\n<p>a</div>\n\
                    </body></html>";
        let (m, _) = check_html(page).unwrap_err();
        assert!(m.message.starts_with("line 4 of the output:"), "{m:?}");
        assert_eq!(&page[m.offset..m.offset + 3], "<p>");
    }

    #[test]
    fn no_doctype_and_a_bare_ampersand_are_both_counted() {
        let (_, more) = check_html("<p>&bogus;</p><p><").unwrap_err();
        assert!(more >= 1, "{more}");
    }
}
