// Renders the home page from a template with HTMLRewriter, as Workers template pages: the
// article list comes from Supabase in an async element handler, the banner from KV in an async
// text handler, links are upgraded to https, comments and scripts are dropped, an end-tag
// handler closes the body with a footer, and the document's end gets a marker. `/stamped`
// uses a rewriter built at the module's top level.

const TEMPLATE = `<!DOCTYPE html>
<html lang="en">
<head><title>TITLE</title><script>tracking()</script></head>
<body class="home">
<!-- build: 42 -->
<h1 id="site">SITE</h1>
<p class="banner">BANNER</p>
<ul id="articles"><li>placeholder</li></ul>
<a href="http://example.test/about">About</a>
<img src="/logo.png">
</body>
</html>`;

const escape = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function articles(env) {
  const resp = await fetch(`${env.SUPABASE_URL}/rest/v1/articles?select=id,title&order=id`, {
    headers: { apikey: env.SUPABASE_ANON_KEY, authorization: `Bearer ${env.SUPABASE_ANON_KEY}` },
  });
  if (!resp.ok) throw new Error(`PostgREST answered ${resp.status}`);
  return resp.json();
}

class ArticleList {
  constructor(env) {
    this.env = env;
  }
  async element(list) {
    const rows = await articles(this.env);
    list.setInnerContent(
      rows.map((r) => `<li data-id="${r.id}">${escape(r.title)}</li>`).join(""),
      { html: true },
    );
    list.setAttribute("data-count", String(rows.length));
  }
}

function rewriter(env, seen) {
  return new HTMLRewriter()
    .onDocument({
      doctype(d) {
        seen.doctype = d.name;
      },
      end(end) {
        end.append("<!-- rendered by edgesim -->", { html: true });
      },
    })
    .on("title", {
      text(t) {
        if (t.text) t.replace(`${env.SITE_NAME} & friends`);
      },
    })
    .on("script", { element: (e) => e.remove() })
    .on("body", {
      comments: (c) => c.remove(),
      element(e) {
        e.setAttribute("data-doctype", seen.doctype ?? "none");
        e.onEndTag((end) => end.before(`<footer>${escape(env.SITE_NAME)}</footer>`, { html: true }));
      },
    })
    .on("h1#site", { element: (e) => e.setInnerContent(env.SITE_NAME) })
    .on("p.banner", {
      async text(t) {
        if (!t.text) return;
        const banner = (await env.CACHE.get("banner")) ?? "no banner";
        t.replace(banner);
      },
    })
    .on("ul#articles", new ArticleList(env))
    .on('a[href^="http:"]', {
      element(a) {
        a.setAttribute("href", a.getAttribute("href").replace("http:", "https:"));
      },
    })
    .on("img", {
      element(img) {
        img.setAttribute("alt", `${img.tagName} in ${img.namespaceURI}`);
      },
    });
}

// Built once, at the module's top level (as Workers often keep a rewriter in a constant).
const STAMP = new HTMLRewriter().on("h1", {
  element: (e) => e.setAttribute("data-stamp", "top-level"),
});

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const html = { "content-type": "text/html; charset=utf-8" };
    if (url.pathname === "/stamped") return STAMP.transform(new Response("<h1>t</h1>"));
    if (url.pathname === "/template") return new Response(TEMPLATE, { headers: html });
    if (url.pathname === "/") {
      return rewriter(env, {}).transform(new Response(TEMPLATE, { headers: { ...html, "x-page": "home" } }));
    }
    if (url.pathname === "/banner" && request.method === "PUT") {
      await env.CACHE.put("banner", await request.text());
      return new Response("ok\n");
    }
    if (url.pathname === "/broken") {
      const res = new HTMLRewriter()
        .on("h1", {
          element() {
            throw new Error("handler failed");
          },
        })
        .transform(new Response(TEMPLATE, { headers: html }));
      try {
        await res.text();
        return new Response("no error\n", { status: 500 });
      } catch (e) {
        return new Response(`${e.name}: ${e.message}\n`, { status: 502 });
      }
    }
    return new Response("not found\n", { status: 404 });
  },
};
