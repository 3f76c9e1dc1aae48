insert into auth.users (id, aud, role, email, created_at)
values ('44444444-4444-4444-4444-444444444444', 'authenticated', 'authenticated', 'dave@example.com', now());

insert into storage.objects (id, bucket_id, name, owner, metadata)
values ('55555555-5555-5555-5555-555555555555', 'documents', 'dave/report.pdf', '44444444-4444-4444-4444-444444444444', '{"size": 1024, "mimetype": "application/pdf"}');

insert into public.documents (owner, object_id, title, tags, embedding)
values ('44444444-4444-4444-4444-444444444444', '55555555-5555-5555-5555-555555555555', 'Quarterly report', '{finance,q1}', '[0.1,0.2,0.3]');
