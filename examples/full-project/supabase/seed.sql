insert into public.articles (title, content, published) values
  ('first blog', 'Hello from the edge.', true),
  ('second blog', 'KV is eventually consistent.', true),
  ('draft', 'Not ready yet.', false);
