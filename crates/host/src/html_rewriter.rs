//! `HTMLRewriter` for JavaScript Workers, on Cloudflare's own parser and rewriter (`lol_html`,
//! the crate production's HTMLRewriter is built on). Answered over the synchronous host link
//! ([`crate::js_link`], routes `/html/<op>`); the JavaScript side is `crates/js/js/htmlrewriter.js`.
//!
//! A Worker's handlers may be async, and the host link cannot call back into the guest, so a
//! transform takes two passes over the whole body, both with the same selectors and the same
//! handler kinds registered (so `lol_html` reports the same events in the same order):
//!
//! 1. `scan`: every handler invocation becomes an [`Event`] (what the handler would see: the
//!    element's tag, attributes and namespace, a text chunk, a comment, a doctype, an end tag of
//!    a matched element, the document's end). The guest runs its handlers over that list, in
//!    order, awaiting async ones, and records what each asks for.
//! 2. `rewrite`: `lol_html` runs again and applies the recorded [`Op`]s to the event of the same
//!    index; the answer is the rewritten document.
//!
//! `lol_html` never parses inserted content, and calls handlers for the descendants of a
//! removed element all the same, so mutations do not change which events come: the indices of
//! the two passes agree. Every matched element that can have content gets an end-tag handler
//! in both passes (the guest decides whether a user's `onEndTag` runs), which writes nothing
//! unless the guest recorded operations for that end tag.
//!
//! Other routes: `selector` (parses a selector: `on()` throws at once for a bad one, as workerd
//! does) and `check` (whether a tag name, attribute name or comment text is accepted, with
//! `lol_html`'s own message). Errors answer status 400 with the message workerd would put after
//! `Parser error: `.
//!
//! Wire format of `scan` and `rewrite`: a JSON [`Request`] on the first line, then the body's
//! bytes (UTF-8: other charsets are not supported yet).

use lol_html::errors::CommentTextError;
use lol_html::html_content::{
    Comment, ContentType, Doctype, DocumentEnd, Element, EndTag, TextChunk,
};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The handlers one `on(selector, handlers)` registered (which kinds exist).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SelectorHandlers {
    pub selector: String,
    #[serde(default)]
    pub element: bool,
    #[serde(default)]
    pub comments: bool,
    #[serde(default)]
    pub text: bool,
}

/// The document handlers (`onDocument`) registered, one entry per call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentHandlers {
    #[serde(default)]
    pub doctype: bool,
    #[serde(default)]
    pub comments: bool,
    #[serde(default)]
    pub text: bool,
    #[serde(default)]
    pub end: bool,
}

/// A transform's handlers and, for `rewrite`, what the guest's handlers asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    #[serde(default)]
    pub selectors: Vec<SelectorHandlers>,
    #[serde(default)]
    pub document: Vec<DocumentHandlers>,
    /// `(event index, operations)`, for `rewrite`.
    #[serde(default)]
    pub mutations: Vec<(usize, Vec<Op>)>,
}

/// One handler's view of the document, as `scan` reports it. `handler` is the index of the
/// `on()` call (elements, text, comments) or of the `onDocument()` call (`document: true`);
/// `unit` names the token, the same for every handler that sees it.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Event {
    Element {
        handler: usize,
        unit: usize,
        tag: String,
        attrs: Vec<(String, String)>,
        ns: &'static str,
        #[serde(rename = "canHaveContent")]
        can_have_content: bool,
    },
    EndTag {
        unit: usize,
        name: String,
    },
    Text {
        handler: usize,
        document: bool,
        unit: usize,
        text: String,
        last: bool,
    },
    Comment {
        handler: usize,
        document: bool,
        unit: usize,
        text: String,
    },
    Doctype {
        handler: usize,
        unit: usize,
        name: Option<String>,
        #[serde(rename = "publicId")]
        public_id: Option<String>,
        #[serde(rename = "systemId")]
        system_id: Option<String>,
    },
    End {
        handler: usize,
    },
}

/// One mutation a handler asked for, applied to its event's token in `rewrite`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub(crate) enum Op {
    Before {
        content: String,
        html: bool,
    },
    After {
        content: String,
        html: bool,
    },
    Prepend {
        content: String,
        html: bool,
    },
    Append {
        content: String,
        html: bool,
    },
    Replace {
        content: String,
        html: bool,
    },
    SetInnerContent {
        content: String,
        html: bool,
    },
    Remove,
    RemoveAndKeepContent,
    SetAttribute {
        name: String,
        value: String,
    },
    RemoveAttribute {
        name: String,
    },
    /// An element's `tagName`, an end tag's `name`.
    SetName {
        name: String,
    },
    /// A comment's `text`.
    SetText {
        text: String,
    },
}

fn kind(html: bool) -> ContentType {
    if html {
        ContentType::Html
    } else {
        ContentType::Text
    }
}

fn unsupported(op: &Op, what: &str) -> HandlerError {
    format!("edgesim: {op:?} does not apply to {what}").into()
}

/// What the two passes share: the event counter, the token identities, and either the events
/// found (`scan`) or the operations to apply (`rewrite`).
#[derive(Default)]
struct Pass {
    scanning: bool,
    next: usize,
    /// `(token kind, source range)` of the last token a handler saw, and its unit number.
    last: Option<(Token, usize)>,
    units: usize,
    events: Vec<Event>,
    mutations: HashMap<usize, Vec<Op>>,
}

impl Pass {
    /// Counts one handler invocation: `(event index, unit, whether the unit is new)`.
    fn begin(&mut self, token: Token) -> (usize, usize, bool) {
        let index = self.next;
        self.next += 1;
        match self.last {
            Some((ref t, unit)) if *t == token => (index, unit, false),
            _ => {
                let unit = self.units;
                self.units += 1;
                self.last = Some((token, unit));
                (index, unit, true)
            }
        }
    }

    /// Counts an invocation that is no token's (end tags, the document's end).
    fn begin_other(&mut self) -> usize {
        let index = self.next;
        self.next += 1;
        self.last = None;
        index
    }

    fn take(&mut self, index: usize) -> Vec<Op> {
        self.mutations.remove(&index).unwrap_or_default()
    }
}

type Shared = Rc<RefCell<Pass>>;

/// A token's identity: its kind and where it sits in the input.
type Token = (u8, std::ops::Range<usize>);

fn on_element(pass: &Shared, handler: usize, el: &mut Element<'_, '_>) -> Result<(), HandlerError> {
    let (index, unit, new) = pass.borrow_mut().begin((0, el.source_location().bytes()));
    if new && let Some(end_handlers) = el.end_tag_handlers() {
        let pass = pass.clone();
        end_handlers.push(Box::new(move |end: &mut EndTag<'_>| {
            on_end_tag(&pass, unit, end)
        }));
    }
    let ops = {
        let mut p = pass.borrow_mut();
        if p.scanning {
            p.events.push(Event::Element {
                handler,
                unit,
                tag: el.tag_name(),
                attrs: el
                    .attributes()
                    .iter()
                    .map(|a| (a.name(), a.value()))
                    .collect(),
                ns: el.namespace_uri(),
                can_have_content: el.can_have_content(),
            });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Before { content, html } => el.before(&content, kind(html)),
            Op::After { content, html } => el.after(&content, kind(html)),
            Op::Prepend { content, html } => el.prepend(&content, kind(html)),
            Op::Append { content, html } => el.append(&content, kind(html)),
            Op::Replace { content, html } => el.replace(&content, kind(html)),
            Op::SetInnerContent { content, html } => el.set_inner_content(&content, kind(html)),
            Op::Remove => el.remove(),
            Op::RemoveAndKeepContent => el.remove_and_keep_content(),
            Op::SetAttribute { name, value } => el.set_attribute(&name, &value)?,
            Op::RemoveAttribute { name } => el.remove_attribute(&name),
            Op::SetName { name } => el.set_tag_name(&name)?,
            op @ Op::SetText { .. } => return Err(unsupported(&op, "an element")),
        }
    }
    Ok(())
}

fn on_end_tag(pass: &Shared, unit: usize, end: &mut EndTag<'_>) -> Result<(), HandlerError> {
    let ops = {
        let mut p = pass.borrow_mut();
        let index = p.begin_other();
        if p.scanning {
            p.events.push(Event::EndTag {
                unit,
                name: end.name(),
            });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Before { content, html } => end.before(&content, kind(html)),
            Op::After { content, html } => end.after(&content, kind(html)),
            Op::Replace { content, html } => end.replace(&content, kind(html)),
            Op::Remove => end.remove(),
            Op::SetName { name } => end.set_name_str(name),
            op => return Err(unsupported(&op, "an end tag")),
        }
    }
    Ok(())
}

fn on_text(
    pass: &Shared,
    handler: usize,
    document: bool,
    text: &mut TextChunk<'_>,
) -> Result<(), HandlerError> {
    let ops = {
        let mut p = pass.borrow_mut();
        let (index, unit, _) = p.begin((1, text.source_location().bytes()));
        if p.scanning {
            p.events.push(Event::Text {
                handler,
                document,
                unit,
                text: text.as_str().to_string(),
                last: text.last_in_text_node(),
            });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Before { content, html } => text.before(&content, kind(html)),
            Op::After { content, html } => text.after(&content, kind(html)),
            Op::Replace { content, html } => text.replace(&content, kind(html)),
            Op::Remove => text.remove(),
            op => return Err(unsupported(&op, "a text chunk")),
        }
    }
    Ok(())
}

fn on_comment(
    pass: &Shared,
    handler: usize,
    document: bool,
    comment: &mut Comment<'_>,
) -> Result<(), HandlerError> {
    let ops = {
        let mut p = pass.borrow_mut();
        let (index, unit, _) = p.begin((2, comment.source_location().bytes()));
        if p.scanning {
            p.events.push(Event::Comment {
                handler,
                document,
                unit,
                text: comment.text(),
            });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Before { content, html } => comment.before(&content, kind(html)),
            Op::After { content, html } => comment.after(&content, kind(html)),
            Op::Replace { content, html } => comment.replace(&content, kind(html)),
            Op::Remove => comment.remove(),
            Op::SetText { text } => comment.set_text(&text)?,
            op => return Err(unsupported(&op, "a comment")),
        }
    }
    Ok(())
}

fn on_doctype(
    pass: &Shared,
    handler: usize,
    doctype: &mut Doctype<'_>,
) -> Result<(), HandlerError> {
    let ops = {
        let mut p = pass.borrow_mut();
        let (index, unit, _) = p.begin((3, doctype.source_location().bytes()));
        if p.scanning {
            p.events.push(Event::Doctype {
                handler,
                unit,
                name: doctype.name(),
                public_id: doctype.public_id(),
                system_id: doctype.system_id(),
            });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Remove => doctype.remove(),
            op => return Err(unsupported(&op, "a doctype")),
        }
    }
    Ok(())
}

fn on_end(pass: &Shared, handler: usize, end: &mut DocumentEnd<'_>) -> Result<(), HandlerError> {
    let ops = {
        let mut p = pass.borrow_mut();
        let index = p.begin_other();
        if p.scanning {
            p.events.push(Event::End { handler });
            return Ok(());
        }
        p.take(index)
    };
    for op in ops {
        match op {
            Op::Append { content, html } => end.append(&content, kind(html)),
            op => return Err(unsupported(&op, "the document end")),
        }
    }
    Ok(())
}

/// Parses `selector` as `lol_html` does; the error is its message.
pub(crate) fn parse_selector(selector: &str) -> Result<Selector, String> {
    selector.parse::<Selector>().map_err(|e| e.to_string())
}

/// Runs one pass over `input` with `req`'s handlers: the events (`scanning`) or the output.
fn run(req: Request, input: &[u8], scanning: bool) -> Result<(Vec<Event>, Vec<u8>), String> {
    let mut selectors = Vec::with_capacity(req.selectors.len());
    for s in &req.selectors {
        selectors.push(parse_selector(&s.selector)?);
    }
    let pass: Shared = Rc::new(RefCell::new(Pass {
        scanning,
        mutations: req.mutations.into_iter().collect(),
        ..Pass::default()
    }));
    let mut element_handlers = Vec::new();
    for (i, (s, selector)) in req.selectors.iter().zip(selectors).enumerate() {
        let mut h = ElementContentHandlers::default();
        if s.element {
            let p = pass.clone();
            h = h.element(move |el: &mut Element<'_, '_>| on_element(&p, i, el));
        }
        if s.comments {
            let p = pass.clone();
            h = h.comments(move |c: &mut Comment<'_>| on_comment(&p, i, false, c));
        }
        if s.text {
            let p = pass.clone();
            h = h.text(move |t: &mut TextChunk<'_>| on_text(&p, i, false, t));
        }
        element_handlers.push((Cow::Owned(selector), h));
    }
    let mut document_handlers = Vec::new();
    for (i, d) in req.document.iter().enumerate() {
        let mut h = DocumentContentHandlers::default();
        if d.doctype {
            let p = pass.clone();
            h = h.doctype(move |dt: &mut Doctype<'_>| on_doctype(&p, i, dt));
        }
        if d.comments {
            let p = pass.clone();
            h = h.comments(move |c: &mut Comment<'_>| on_comment(&p, i, true, c));
        }
        if d.text {
            let p = pass.clone();
            h = h.text(move |t: &mut TextChunk<'_>| on_text(&p, i, true, t));
        }
        if d.end {
            let p = pass.clone();
            h = h.end(move |e: &mut DocumentEnd<'_>| on_end(&p, i, e));
        }
        document_handlers.push(h);
    }
    let mut settings = Settings::new().with_strict(false);
    for h in element_handlers {
        settings = settings.append_element_content_handler(h);
    }
    for h in document_handlers {
        settings = settings.append_document_content_handler(h);
    }
    let mut output = Vec::with_capacity(if scanning {
        0
    } else {
        input.len() + input.len() / 4
    });
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| {
        if !scanning {
            output.extend_from_slice(chunk);
        }
    });
    rewriter.write(input).map_err(|e| e.to_string())?;
    rewriter.end().map_err(|e| e.to_string())?;
    let events = std::mem::take(&mut pass.borrow_mut().events);
    Ok((events, output))
}

/// Runs `scan` over `input`: the events the handlers would see.
pub(crate) fn scan(req: Request, input: &[u8]) -> Result<Vec<Event>, String> {
    run(req, input, true).map(|(events, _)| events)
}

/// Runs `rewrite` over `input`: the document with `req.mutations` applied.
pub(crate) fn rewrite(req: Request, input: &[u8]) -> Result<Vec<u8>, String> {
    run(req, input, false).map(|(_, out)| out)
}

/// What `check` validates: a name or text a handler sets, with `lol_html`'s own verdict.
fn check(what: &str, value: &str) -> Result<(), String> {
    let error: RefCell<Option<String>> = RefCell::new(None);
    let html = if what == "comment" {
        "<!--x-->"
    } else {
        "<p></p>"
    };
    let settings = Settings::new()
        .append_element_content_handler((
            Cow::Owned(parse_selector("p")?),
            ElementContentHandlers::default().element(|el: &mut Element<'_, '_>| {
                let r = match what {
                    "tag" => el.set_tag_name(value).map_err(|e| e.to_string()),
                    _ => el.set_attribute(value, "").map_err(|e| e.to_string()),
                };
                *error.borrow_mut() = r.err();
                Ok(())
            }),
        ))
        .append_document_content_handler(DocumentContentHandlers::default().comments(
            |c: &mut Comment<'_>| {
                *error.borrow_mut() = match c.set_text(value) {
                    Ok(()) => None,
                    // workerd's lol_html words this one differently (probe `comment text bad`).
                    Err(CommentTextError::CommentClosingSequence) => Some(
                        "Comment text shouldn't contain comment closing sequence (`-->`).".into(),
                    ),
                    Err(e) => Some(e.to_string()),
                };
                Ok(())
            },
        ));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html.as_bytes()).map_err(|e| e.to_string())?;
    rewriter.end().map_err(|e| e.to_string())?;
    error.into_inner().map_or(Ok(()), Err)
}

/// Splits a `scan`/`rewrite` body into its JSON header and the document's bytes.
fn split(body: &[u8]) -> Result<(Request, &[u8]), String> {
    let nl = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let req: Request = serde_json::from_slice(&body[..nl])
        .map_err(|e| format!("edgesim: a bad HTMLRewriter request: {e}"))?;
    Ok((req, body.get(nl + 1..).unwrap_or_default()))
}

/// The host link's answer to `/html/<op>`: status and body.
pub(crate) fn answer(op: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let result = match op {
        "selector" => parse_selector(&String::from_utf8_lossy(body)).map(|_| Vec::new()),
        "check" => {
            let text = String::from_utf8_lossy(body);
            let (what, value) = text.split_once('\n').unwrap_or(("attr", &text));
            check(what, value).map(|()| Vec::new())
        }
        "scan" => split(body).and_then(|(req, input)| {
            let events = scan(req, input)?;
            serde_json::to_vec(&events).map_err(|e| e.to_string())
        }),
        "rewrite" => split(body).and_then(|(req, input)| rewrite(req, input)),
        _ => {
            return (
                404,
                format!("edgesim: no HTMLRewriter route {op}").into_bytes(),
            );
        }
    };
    match result {
        Ok(out) => (200, out),
        Err(e) => (400, e.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn req(v: Value) -> Request {
        serde_json::from_value(v).expect("a request")
    }

    fn events(v: Value, html: &str) -> Value {
        serde_json::to_value(scan(req(v), html.as_bytes()).expect("scan")).expect("json")
    }

    fn rewritten(v: Value, html: &str) -> String {
        String::from_utf8(rewrite(req(v), html.as_bytes()).expect("rewrite")).expect("utf-8")
    }

    #[test]
    fn scan_reports_elements_end_tags_text_and_comments_in_order() {
        let v = events(
            json!({"selectors": [{"selector": "a", "element": true, "text": true},
                                 {"selector": "a[href]", "element": true}],
                   "document": [{"comments": true, "end": true}]}),
            r#"<p><a href="x" Class=Y>hi</a><!-- c --><br></p>"#,
        );
        assert_eq!(
            v,
            json!([
                {"kind": "element", "handler": 0, "unit": 0, "tag": "a",
                 "attrs": [["href", "x"], ["class", "Y"]],
                 "ns": "http://www.w3.org/1999/xhtml", "canHaveContent": true},
                {"kind": "element", "handler": 1, "unit": 0, "tag": "a",
                 "attrs": [["href", "x"], ["class", "Y"]],
                 "ns": "http://www.w3.org/1999/xhtml", "canHaveContent": true},
                {"kind": "text", "handler": 0, "document": false, "unit": 1, "text": "hi", "last": false},
                {"kind": "text", "handler": 0, "document": false, "unit": 2, "text": "", "last": true},
                {"kind": "endTag", "unit": 0, "name": "a"},
                {"kind": "comment", "handler": 0, "document": true, "unit": 3, "text": " c "},
                {"kind": "end", "handler": 0}
            ])
        );
    }

    #[test]
    fn doctype_fields_and_void_elements() {
        let v = events(
            json!({"selectors": [{"selector": "img", "element": true}], "document": [{"doctype": true}]}),
            r#"<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd"><img src=a><svg><circle/></svg>"#,
        );
        assert_eq!(v[0]["name"], "html");
        assert_eq!(v[0]["publicId"], "-//W3C//DTD HTML 4.01//EN");
        assert_eq!(v[0]["systemId"], "http://www.w3.org/TR/html4/strict.dtd");
        assert_eq!(v[1]["canHaveContent"], false);
        assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
        let v = events(
            json!({"selectors": [{"selector": "circle", "element": true}], "document": [{"doctype": true}]}),
            "<!doctype html><svg><circle/></svg>",
        );
        assert_eq!(v[0]["publicId"], Value::Null);
        assert_eq!(v[1]["ns"], "http://www.w3.org/2000/svg");
    }

    #[test]
    fn rewrite_applies_each_events_operations() {
        let sel = json!([{"selector": "a", "element": true, "text": true},
                         {"selector": "p", "element": true, "comments": true}]);
        let html = r#"<p class=x>t<a href="http://a">link</a><!--c--></p>"#;
        // Events: 0 p element, 1 text "t"? no: "t" is inside p, not a → not an event for a's
        // text handler; 1 a element, 2 "link", 3 "" last, 4 a end tag, 5 comment, 6 p end tag.
        let v = events(json!({"selectors": sel}), html);
        let kinds: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "element", "element", "text", "text", "endTag", "comment", "endTag"
            ]
        );
        let out = rewritten(
            json!({"selectors": sel, "mutations": [
                [0, [{"op": "prepend", "content": "<b>hi</b>", "html": true},
                     {"op": "setAttribute", "name": "data-x", "value": "1\""}]],
                [1, [{"op": "setAttribute", "name": "href", "value": "https://a"},
                     {"op": "append", "content": "<&>", "html": false}]],
                [2, [{"op": "replace", "content": "LINK", "html": false}]],
                [4, [{"op": "after", "content": "!", "html": false}]],
                [5, [{"op": "setText", "text": "d"}]],
                [6, [{"op": "setName", "name": "div"}]]
            ]}),
            html,
        );
        assert_eq!(
            out,
            r#"<p class=x data-x="1&quot;"><b>hi</b>t<a href="https://a">LINK&lt;&amp;&gt;</a>!<!--d--></div>"#
        );
    }

    #[test]
    fn removing_an_element_keeps_the_event_order() {
        let sel = json!([{"selector": "div", "element": true}, {"selector": "i", "element": true}]);
        let html = "<div><i>a</i></div><i>b</i>";
        let v = events(json!({"selectors": sel}), html);
        assert_eq!(v.as_array().map(Vec::len), Some(6), "{v}");
        let out = rewritten(
            json!({"selectors": sel, "mutations": [
                [0, [{"op": "remove"}]],
                [1, [{"op": "setInnerContent", "content": "gone", "html": false}]],
                [4, [{"op": "setName", "name": "em"}]],
            ]}),
            html,
        );
        assert_eq!(out, "<em>b</em>");
    }

    #[test]
    fn doctype_and_document_end() {
        let out = rewritten(
            json!({"document": [{"doctype": true, "end": true}], "mutations": [
                [0, [{"op": "remove"}]], [1, [{"op": "append", "content": "<!-- end -->", "html": true}]]]}),
            "<!doctype html><p>a</p>",
        );
        assert_eq!(out, "<p>a</p><!-- end -->");
    }

    #[test]
    fn errors_carry_lol_html_messages() {
        assert_eq!(
            answer("selector", b"p["),
            (400, b"Unexpected end of selector.".to_vec())
        );
        assert_eq!(answer("selector", b"div > p.x").0, 200);
        assert_eq!(
            answer("check", b"attr\n").1,
            b"Attribute name can't be empty.".to_vec()
        );
        assert_eq!(answer("check", b"attr\nok-name"), (200, Vec::new()));
        assert_eq!(answer("check", b"tag\n1x").0, 400);
        assert_eq!(answer("check", b"comment\na-->b").0, 400);
        assert_eq!(answer("check", b"comment\nfine"), (200, Vec::new()));
        assert_eq!(answer("scan", b"not json\n<p>").0, 400);
        assert_eq!(answer("nope", b"").0, 404);
        // A mutation on the wrong kind of token is an error, not a panic.
        let body = br#"{"document": [{"end": true}], "mutations": [[0, [{"op": "remove"}]]]}
<p>"#;
        assert_eq!(answer("rewrite", body).0, 400);
    }

    #[test]
    fn scan_then_rewrite_with_no_mutations_is_the_identity() {
        let html = "<!doctype html><html><head><title>T</title></head><body><p>a<b>b</b><!--c--></p><script>if (a<b) {}</script></body></html>";
        let v = json!({"selectors": [{"selector": "*", "element": true, "text": true, "comments": true}],
                       "document": [{"doctype": true, "text": true, "comments": true, "end": true}]});
        assert!(
            events(v.clone(), html)
                .as_array()
                .is_some_and(|a| a.len() > 20)
        );
        assert_eq!(rewritten(v, html), html);
    }
}
