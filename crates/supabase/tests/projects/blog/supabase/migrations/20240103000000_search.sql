-- The title search the starters expose as `rpc/search` (language sql, security invoker: the
-- caller's row level security applies, so anon finds published posts only).
create or replace function public.search(term text)
returns setof public.posts
language sql
stable
as $$
  select * from public.posts
  where title ilike '%' || term || '%'
  order by id;
$$;
