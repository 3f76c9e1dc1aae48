insert into public.articles (title, content) values
  ('first blog', 'Hello from the edge.'),
  ('second blog', 'KV is eventually consistent.');
