-- Avatars in Storage, documents with tags and embeddings (pgvector), trigram search index.
create extension if not exists vector with schema extensions;
create extension if not exists pg_trgm;

insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true), ('documents', 'documents', false);

create policy "Avatar images are publicly accessible." on storage.objects
  for select using (bucket_id = 'avatars');
create policy "Anyone can upload an avatar." on storage.objects
  for insert with check (bucket_id = 'avatars');
create policy "Owners read their documents" on storage.objects
  for select to authenticated using (bucket_id = 'documents' and owner = (select auth.uid()));

create table public.documents (
  id uuid primary key default gen_random_uuid(),
  owner uuid references auth.users (id) on delete cascade,
  object_id uuid references storage.objects (id) on delete set null,
  title text not null,
  tags text[] not null default '{}',
  embedding extensions.vector(3)
);
create index documents_embedding_idx on public.documents using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);
create index documents_title_trgm_idx on public.documents using gin (title gin_trgm_ops);
create index documents_tags_idx on public.documents using gin (tags);

alter table public.documents enable row level security;
create policy "Owners see their documents" on public.documents
  for select to authenticated using (owner = (select auth.uid()));

alter table public.documents add constraint documents_title_unique unique (title);
