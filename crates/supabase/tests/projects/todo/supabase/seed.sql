insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at)
values ('33333333-3333-3333-3333-333333333333', 'authenticated', 'authenticated', 'carol@example.com', '{}', now());

insert into todos (user_id, task, is_complete, priority, labels) values
  ('33333333-3333-3333-3333-333333333333', 'Buy milk', false, 'high', '{home,shopping}'),
  ('33333333-3333-3333-3333-333333333333', 'Write the report', true, 'urgent', array['work']),
  ('33333333-3333-3333-3333-333333333333', 'Call mum', false, 'low', '{}');
