// Probes: HTMLRewriter (edgesim: crates/js/js/htmlrewriter.js over lol_html in the host) on
// fixed documents: every handler kind, each mutation, async handlers, errors and their messages.
import { worker } from "./lib.js";

const rewrite = (rewriter, html, init) => rewriter.transform(new Response(html, init)).text();

const probes = {
  "element read": async () => {
    const seen = [];
    await rewrite(
      new HTMLRewriter().on("a, svg, img", {
        element(e) {
          seen.push([e.tagName, [...e.attributes], e.getAttribute("HREF"), e.hasAttribute("class"),
            e.hasAttribute("nope"), e.getAttribute("nope"), e.namespaceURI, e.removed]);
        },
      }),
      '<A HREF="/x" Class="k">a</A><svg viewBox="0 0 1 1"></svg><img src=i>',
    );
    return seen;
  },
  "element attributes": () =>
    rewrite(
      new HTMLRewriter().on("p", {
        element(e) {
          e.setAttribute("id", "new").setAttribute("CLASS", 'q"uote').removeAttribute("data-x");
          e.setAttribute("title", "<&>");
        },
      }),
      '<p class=a data-x=1 title="t">x</p>',
    ),
  "element attributes seen after set": async () => {
    let seen;
    await rewrite(
      new HTMLRewriter().on("p", {
        element(e) {
          e.setAttribute("b", "2");
          e.setAttribute("a", "3");
          e.removeAttribute("c");
          seen = [[...e.attributes], e.getAttribute("a")];
        },
      }),
      "<p a=1 c=0>x</p>",
    );
    return seen;
  },
  "element content": () =>
    rewrite(
      new HTMLRewriter()
        .on("#a", { element: (e) => e.before("<i>b</i>", { html: true }).after("<i>a</i>").prepend("1").append("<b>2</b>", { html: true }) })
        .on("#b", { element: (e) => e.setInnerContent("<em>in</em>", { html: true }) })
        .on("#c", { element: (e) => e.setInnerContent("<em>t</em>") })
        .on("#d", { element: (e) => e.replace("<hr>", { html: true }) })
        .on("#e", { element: (e) => e.removeAndKeepContent() }),
      '<div id=a>x</div><div id=b>old <span>child</span></div><div id=c>old</div><div id=d>gone</div><div id=e><u>kept</u></div>',
    ),
  "element removed flag": async () => {
    const seen = [];
    await rewrite(
      new HTMLRewriter()
        .on("p", { element: (e) => { e.remove(); seen.push(e.removed); } })
        .on("p", { element: (e) => seen.push(e.removed) })
        .on("i", { element: (e) => { e.removeAndKeepContent(); seen.push(e.removed); } })
        .on("b", { element: (e) => { e.setInnerContent("x"); seen.push(e.removed); } }),
      "<p>a</p><i>b</i><b>c</b>",
    );
    return seen;
  },
  "tagName": async () => {
    const seen = [];
    const out = await rewrite(
      new HTMLRewriter()
        .on("div", { element: (e) => { e.tagName = "SECTION"; seen.push(e.tagName); } })
        .on("div", { element: (e) => seen.push(e.tagName) }),
      "<div><div>x</div></div>",
    );
    return [out, seen];
  },
  "onEndTag": async () => {
    const names = [];
    const out = await rewrite(
      new HTMLRewriter().on("b", {
        element(e) {
          e.tagName = "strong";
          e.onEndTag((end) => {
            names.push(end.name);
            end.before("!", { html: false });
            end.after("<br>", { html: true });
          });
        },
      }).on("i", {
        element(e) {
          e.onEndTag((end) => { end.name = "em"; });
        },
      }).on("u", {
        element(e) {
          e.onEndTag((end) => end.remove());
        },
      }),
      "<b>x</b><i>y</i><u>z</u>",
    );
    return [out, names];
  },
  "onEndTag twice": () =>
    rewrite(
      new HTMLRewriter().on("b", {
        element(e) {
          e.onEndTag((end) => end.before("1"));
          e.onEndTag((end) => end.before("2"));
        },
      }),
      "<b>x</b>",
    ),
  "onEndTag on a void element": async () => {
    let error;
    await rewrite(
      new HTMLRewriter().on("br", {
        element(e) {
          try {
            e.onEndTag(() => {});
          } catch (err) {
            error = `${err.name}: ${err.message}`;
          }
        },
      }),
      "a<br>b",
    );
    return error ?? "<no throw>";
  },
  "text chunks": async () => {
    const seen = [];
    const out = await rewrite(
      new HTMLRewriter().on("p", {
        text(t) {
          seen.push([t.text, t.lastInTextNode, t.removed]);
          if (t.text === "two") t.replace("<b>2</b>", { html: true });
          if (t.text === "one ") t.before("[").after("]");
          if (t.text === "gone") t.remove();
        },
      }),
      "<p>one <i>two</i> gone</p>",
    );
    return [out, seen];
  },
  "document text": async () => {
    const seen = [];
    await rewrite(new HTMLRewriter().onDocument({ text: (t) => seen.push([t.text, t.lastInTextNode]) }), "a<p>b</p>c");
    return seen;
  },
  "comments": async () => {
    const seen = [];
    const out = await rewrite(
      new HTMLRewriter()
        .on("div", {
          comments(c) {
            seen.push([c.text, c.removed]);
            if (c.text === "a") c.text = "A";
            if (c.text === "b") c.replace("<i>B</i>", { html: true });
            if (c.text === "c") c.before("<").after(">");
            if (c.text === "d") c.remove();
          },
        })
        .onDocument({ comments: (c) => seen.push(["doc", c.text]) }),
      "<!--top--><div><!--a--><!--b--><!--c--><!--d--></div>",
    );
    return [out, seen];
  },
  "comment text bad": async () => {
    let error;
    await rewrite(new HTMLRewriter().onDocument({
      comments(c) {
        try {
          c.text = "x-->y";
        } catch (err) {
          error = `${err.name}: ${err.message}`;
        }
      },
    }), "<!--c-->");
    return error ?? "<no throw>";
  },
  "doctype": async () => {
    const seen = [];
    await rewrite(
      new HTMLRewriter().onDocument({ doctype: (d) => seen.push([d.name, d.publicId, d.systemId]) }),
      '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><p>',
    );
    await rewrite(new HTMLRewriter().onDocument({ doctype: (d) => seen.push([d.name, d.publicId, d.systemId]) }), "<!doctype html>");
    return seen;
  },
  "document end": () =>
    rewrite(
      new HTMLRewriter().onDocument({ end: (end) => { end.append("<!--1-->", { html: true }); end.append("<2>"); } }),
      "<p>a</p>",
    ),
  "async handlers": async () => {
    const order = [];
    const out = await rewrite(
      new HTMLRewriter().on("li", {
        async element(e) {
          order.push(`start ${e.getAttribute("n")}`);
          await new Promise((r) => setTimeout(r, 5));
          e.setInnerContent(`item ${e.getAttribute("n")}`);
          order.push(`end ${e.getAttribute("n")}`);
        },
      }),
      "<ul><li n=1>a</li><li n=2>b</li></ul>",
    );
    return [out, order];
  },
  "class handler this": () => {
    class Handler {
      constructor() {
        this.prefix = "p-";
      }
      element(e) {
        e.setAttribute("id", this.prefix + e.tagName);
      }
    }
    return rewrite(new HTMLRewriter().on("h1", new Handler()), "<h1>t</h1>");
  },
  "handler order": async () => {
    const order = [];
    await rewrite(
      new HTMLRewriter()
        .onDocument({ text: (t) => t.text && order.push(`doc ${t.text}`), comments: (c) => order.push(`doc !${c.text}`) })
        .on("p", { element: (e) => order.push("p"), text: (t) => t.text && order.push(`p ${t.text}`), comments: (c) => order.push(`p !${c.text}`) })
        .on("*", { element: (e) => order.push(`* ${e.tagName}`) }),
      "<p>x<!--c--></p>",
    );
    return order;
  },
  "selectors": async () => {
    const seen = [];
    await rewrite(
      new HTMLRewriter()
        .on("div > p.a", { element: (e) => seen.push(["child", e.getAttribute("id")]) })
        .on("div p", { element: (e) => seen.push(["desc", e.getAttribute("id")]) })
        .on('[data-k="v"]', { element: (e) => seen.push(["attr", e.getAttribute("id")]) })
        .on("p:nth-child(2)", { element: (e) => seen.push(["nth", e.getAttribute("id")]) })
        .on("p:not(.a)", { element: (e) => seen.push(["not", e.getAttribute("id")]) }),
      '<div><p class=a id=1 data-k=v></p><p id=2></p><section><p class=a id=3></p></section></div>',
    );
    return seen;
  },
  "bad selectors": () =>
    ["p[", "", "a:hover", "div >", "ns|p", "p::before"].map((s) => {
      try {
        new HTMLRewriter().on(s, {});
        return "<ok>";
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    }),
  "bad attribute name": async () => {
    let error;
    await rewrite(new HTMLRewriter().on("p", {
      element(e) {
        try {
          e.setAttribute("a b", "x");
        } catch (err) {
          error = `${err.name}: ${err.message}`;
        }
      },
    }), "<p>");
    return error ?? "<no throw>";
  },
  "bad tag name": async () => {
    let error;
    await rewrite(new HTMLRewriter().on("p", {
      element(e) {
        try {
          e.tagName = "1p";
        } catch (err) {
          error = `${err.name}: ${err.message}`;
        }
      },
    }), "<p>");
    return error ?? "<no throw>";
  },
  "handler throws": async () => {
    try {
      await rewrite(new HTMLRewriter().on("p", { element() { throw new RangeError("boom"); } }), "<p>x</p>");
      return "<no throw>";
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  },
  "token used after its handler": async () => {
    let saved;
    await rewrite(new HTMLRewriter().on("p", { element(e) { saved = e; } }), "<p>x</p>");
    try {
      saved.setAttribute("a", "b");
      return "<no throw>";
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  },
  "response head kept": async () => {
    const res = new HTMLRewriter().on("p", { element: (e) => e.append("!") }).transform(
      new Response("<p>x</p>", { status: 201, statusText: "Made", headers: { "content-type": "text/html", "x-a": "1" } }),
    );
    return [res.status, res.statusText, res.headers.get("content-type"), res.headers.get("x-a"), await res.text()];
  },
  "content-length of the input": async () => {
    const input = new Response("<p>x</p>", { headers: { "content-length": "8", "x-b": "2" } });
    const res = new HTMLRewriter().on("p", { element: (e) => e.append("!!") }).transform(input);
    return [res.headers.get("content-length"), res.headers.get("x-b"), await res.text()];
  },
  "handlers run when the body is read": async () => {
    let ran = false;
    const res = new HTMLRewriter().on("p", { element() { ran = true; } }).transform(new Response("<p>x</p>"));
    const before = ran;
    await res.text();
    return [before, ran];
  },
  "transform a non-Response": () => new HTMLRewriter().transform("<p>x</p>"),
  "transform a null body": async () => {
    const res = new HTMLRewriter().on("p", { element: (e) => e.append("!") }).transform(new Response(null, { status: 204 }));
    return [res.status, res.body === null, await res.text()];
  },
  "utf-8 text": async () => {
    const seen = [];
    const out = await rewrite(
      new HTMLRewriter().on("p", { text: (t) => t.text && seen.push(t.text), element: (e) => e.setAttribute("title", "é✓") }),
      "<p>héllo ✓ 😀</p>",
    );
    return [out, seen];
  },
  "no handlers": () => rewrite(new HTMLRewriter(), "<!doctype html><p a=1>x &amp; y</p>"),
  "content from a non-string": () => rewrite(new HTMLRewriter().on("p", { element: (e) => e.append(42) }), "<p>x</p>"),
};

export default worker(probes);
