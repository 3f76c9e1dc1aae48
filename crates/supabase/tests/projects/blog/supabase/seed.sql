-- Two users; their profiles come from the handle_new_user trigger.
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values
  ('00000000-0000-0000-0000-000000000000', '11111111-1111-1111-1111-111111111111', 'authenticated', 'authenticated', 'alice@example.com', crypt('password123', gen_salt('bf')), now(), '{"provider":"email","providers":["email"]}', '{"full_name":"Alice Liddell"}', now(), now()),
  ('00000000-0000-0000-0000-000000000000', '22222222-2222-2222-2222-222222222222', 'authenticated', 'authenticated', 'bob@example.com', crypt('password123', gen_salt('bf')), now(), '{"provider":"email","providers":["email"]}', '{"full_name":"Bob Builder"}', now(), now());

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
values
  ('11111111-1111-1111-1111-111111111111', '11111111-1111-1111-1111-111111111111', '{"sub":"11111111-1111-1111-1111-111111111111","email":"alice@example.com"}', 'email', now(), now()),
  ('22222222-2222-2222-2222-222222222222', '22222222-2222-2222-2222-222222222222', '{"sub":"22222222-2222-2222-2222-222222222222","email":"bob@example.com"}', 'email', now(), now());

update public.profiles set username = 'alice' where id = '11111111-1111-1111-1111-111111111111';
update public.profiles set username = 'bob' where id = '22222222-2222-2222-2222-222222222222';

insert into public.posts (id, author_id, title, body, status) values
  (1, '11111111-1111-1111-1111-111111111111', 'Hello world', 'First post', 'published'),
  (2, '11111111-1111-1111-1111-111111111111', 'Drafty', 'Not yet', 'draft'),
  (3, '22222222-2222-2222-2222-222222222222', 'Bob builds', 'Can we fix it?', 'published');

insert into public.tags (name) values ('intro'), ('rust'), ('diy');
insert into public.post_tags (post_id, tag_id) values (1, 1), (1, 2), (3, 3);
